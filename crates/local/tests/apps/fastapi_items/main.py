"""A small FastAPI service: a health route and an in-memory item list."""
from fastapi import FastAPI

app = FastAPI()
ITEMS = ["apple", "pear"]


@app.get("/healthz")
def healthz():
    return {"ok": True}


@app.get("/items")
def items():
    return {"items": ITEMS}
