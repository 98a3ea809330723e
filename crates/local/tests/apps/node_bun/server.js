// Says which runtime (Bun) runs it and which version of its one dependency it loads:
// proof of the runtime and the install the deployment chose.
const http = require("http");
const ms = require("ms");
const version = require("ms/package.json").version;

http
  .createServer((req, res) => {
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ bun: process.versions.bun || null, ms: version, day: ms("1d") }));
  })
  .listen(Number(process.env.PORT || 3000), "0.0.0.0");
