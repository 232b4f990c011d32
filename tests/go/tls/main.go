// TLS and credentials with the Go client (tests/e2e/test_clients_tls.py): mutual TLS
// with an API key lists the models; the same without the key is refused.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc/status"

	api "github.com/tokenwire/tokenwire/clients/go"
)

func main() {
	creds, err := api.TLSFromFiles(os.Getenv("TW_CA"), os.Getenv("TW_CERT"), os.Getenv("TW_KEY"))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	client, err := api.NewClient(os.Getenv("TW_ADDR"), creds, api.APIKey(os.Getenv("TW_API_KEY")))
	if err != nil {
		panic(err)
	}
	list, err := client.List(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println("listed", len(list.Models))
	anonymous, err := api.NewClient(os.Getenv("TW_ADDR"), creds)
	if err != nil {
		panic(err)
	}
	_, err = anonymous.List(ctx)
	var se api.StatusError
	if !errors.As(err, &se) {
		panic(fmt.Sprint("not refused: ", err))
	}
	fmt.Println("refused", se.StatusCode, status.Code(err))
}
