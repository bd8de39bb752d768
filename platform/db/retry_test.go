package db

import (
	"context"
	"errors"
	"testing"
)

// unsent is an error of a statement that never left the client.
type unsent struct{}

func (unsent) Error() string     { return "write failed before sending" }
func (unsent) SafeToRetry() bool { return true }

func TestRetry(t *testing.T) {
	errSent := errors.New("statement failed on the server")
	cases := []struct {
		name     string
		failures []error
		wantRuns int
		wantErr  error
	}{
		{name: "success runs once", wantRuns: 1},
		{name: "unsent then success", failures: []error{unsent{}, unsent{}}, wantRuns: 3},
		{name: "unsent every time stops at three", failures: []error{unsent{}, unsent{}, unsent{}, unsent{}}, wantRuns: 3, wantErr: unsent{}},
		{name: "an error after sending is not retried", failures: []error{errSent, unsent{}}, wantRuns: 1, wantErr: errSent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runs := 0
			err := Retry(context.Background(), func() error {
				runs++
				if runs <= len(tc.failures) {
					return tc.failures[runs-1]
				}
				return nil
			})
			if runs != tc.wantRuns || !errors.Is(err, tc.wantErr) {
				t.Errorf("runs %d, err %v; want %d, %v", runs, err, tc.wantRuns, tc.wantErr)
			}
		})
	}
}

func TestRetryStopsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	runs := 0
	err := Retry(ctx, func() error {
		runs++
		cancel()
		return unsent{}
	})
	if runs != 1 || !errors.Is(err, unsent{}) {
		t.Errorf("runs %d, err %v; want 1 run and its error", runs, err)
	}
}
