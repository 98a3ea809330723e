const http = require("http");
const fs = require("fs");
const port = process.env.PORT || 3000;
http
  .createServer((req, res) => {
    const built = JSON.parse(fs.readFileSync("dist/out.json", "utf8"));
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ ...built, running_env: process.env.NODE_ENV || null }));
  })
  .listen(port);
