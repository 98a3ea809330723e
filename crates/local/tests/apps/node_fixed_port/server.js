// A server written the way many tutorials do: the port is a number in the
// code, PORT is never read.
const http = require("http");

const server = http.createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "text/plain" });
  res.end("hello from a fixed port\n");
});

server.listen(8123, () => console.log("listening on 8123"));
