// Loads both halves of the peer conflict and says which versions it got.
const http = require("http");
const preact = require("preact/package.json").version;
const render = require("preact-render-to-string/package.json").version;

http
  .createServer((req, res) => {
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ node: process.version, preact, render }));
  })
  .listen(Number(process.env.PORT || 3000), "0.0.0.0");
