// Creates the database from nothing: whatever was there is wiped.
const fs = require("fs");
fs.mkdirSync("data", { recursive: true });
fs.writeFileSync("data/db.json", JSON.stringify({ visits: 0 }));
console.log("Initialized the database.");
