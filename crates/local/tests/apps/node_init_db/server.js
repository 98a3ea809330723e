const fs = require("fs");
const http = require("http");

const DB = "data/db.json";
http
  .createServer((req, res) => {
    if (!fs.existsSync(DB)) {
      res.writeHead(500, { "Content-Type": "text/plain" });
      res.end("no database: run `npm run init-db` first\n");
      return;
    }
    const db = JSON.parse(fs.readFileSync(DB, "utf8"));
    db.visits += 1;
    fs.writeFileSync(DB, JSON.stringify(db));
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end(`visits: ${db.visits}\n`);
  })
  .listen(Number(process.env.PORT || 3000), "0.0.0.0");
