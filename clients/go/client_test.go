package tokenwire

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// counting runs for minutes under greedy decoding: only a cancel ends it.
func counting() *GenerateRequest {
	return &GenerateRequest{Model: "smollm2:135m", Prompt: "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,", Raw: true,
		Options: map[string]any{"num_predict": 100000, "temperature": 0}}
}

// slotIsFree: the server under test has one slot, so this finishes within its deadline
// only if nothing else holds it.
func slotIsFree(t *testing.T, c *Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream := false
	var last GenerateResponse
	err := c.Generate(ctx, &GenerateRequest{Model: "smollm2:135m", Prompt: "Say yes.", Stream: &stream,
		Options: map[string]any{"num_predict": 4}}, func(r GenerateResponse) error { last = r; return nil })
	if err != nil || !last.Done {
		t.Fatalf("the slot was not free: %v %+v", err, last)
	}
}

func TestCancellingTheContextStopsTheEngine(t *testing.T) {
	c, err := NewClient(serverAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	chunks := 0
	err = c.Generate(ctx, counting(), func(r GenerateResponse) error {
		chunks++
		if chunks == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) && status.Code(err) != codes.Canceled {
		t.Fatalf("want a cancellation, got %v", err)
	}
	if chunks < 2 {
		t.Fatalf("only %d chunks", chunks)
	}
	slotIsFree(t, c)
}

func TestADeadlineIsAStatusError(t *testing.T) {
	c, err := NewClient(serverAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err = c.Generate(ctx, counting(), func(GenerateResponse) error { return nil })
	var se StatusError
	if !errors.As(err, &se) || se.StatusCode != 504 || status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("want a 504 StatusError, got %#v", err)
	}
	slotIsFree(t, c)
}
