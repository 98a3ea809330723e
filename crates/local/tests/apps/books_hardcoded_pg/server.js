// The connection is hard-coded in app/config/db.config.js, and settings.js
// is gitignored: only settings.js.example is committed.
const express = require("express");
const Sequelize = require("sequelize");
const dbConfig = require("./app/config/db.config.js");
const { GREETING } = require("./settings");

const sequelize = new Sequelize(dbConfig.DB, dbConfig.USER, dbConfig.PASSWORD, {
  host: dbConfig.HOST,
  dialect: dbConfig.dialect,
  logging: false
});
const Book = sequelize.define("book", { title: Sequelize.STRING });

const app = express();

app.get("/", (req, res) => res.json({ greeting: GREETING }));
app.get("/books", async (req, res) => {
  const books = await Book.findAll({ order: [["id", "ASC"]] });
  res.json({ books: books.map((b) => b.title) });
});
app.post("/books", async (req, res) => {
  try {
    let title = "";
    for await (const chunk of req) title += chunk;
    await Book.create({ title });
    res.status(201).end();
  } catch (e) {
    res.status(500).send(String(e));
  }
});

sequelize.sync().then(() => {
  const port = process.env.PORT || 8080;
  app.listen(port, () => console.log(`listening on ${port}`));
});
