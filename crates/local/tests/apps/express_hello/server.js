// A small Express app: static page plus a JSON route.
const express = require("express");

const app = express();
app.use(express.static("public"));
app.get("/api/hello", (req, res) => res.json({ message: "hello from express" }));

const port = process.env.PORT || 3000;
app.listen(port, () => console.log(`listening on ${port}`));
