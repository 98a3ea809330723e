"""A greeting API and the page that calls it."""
import os

from flask import Flask, jsonify, render_template

app = Flask(__name__)
app.config["GREETING"] = os.environ.get("GREETING", "Hello, World!")


@app.get("/")
def page():
    return render_template("index.html")


@app.get("/api/message")
def api_message():
    return jsonify(message=app.config["GREETING"])


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=5000, debug=False)
