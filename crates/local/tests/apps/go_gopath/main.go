// Command greeter is a tree from before Go modules: no go.mod, its
// dependency vendored, built under its Godeps import path.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"

	"example.com/acme/words"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, words.Hello())
	})
	log.Fatal(http.ListenAndServe(":"+port, nil))
}
