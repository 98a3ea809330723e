from django.http import JsonResponse

from notes.models import Note


def index(request):
    if not Note.objects.exists():
        Note.objects.create(text="first note")
    return JsonResponse({"notes": [n.text for n in Note.objects.all()]})
