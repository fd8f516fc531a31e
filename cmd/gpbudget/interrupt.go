package main

import (
	"context"
	"errors"
	"fmt"
)

// errInterrupted: Ctrl-C or SIGTERM ended a command before it wrote
// anything (exit status 1, exitFail).
var errInterrupted = errors.New("interrupted (Ctrl-C or SIGTERM): nothing was written")

// interruptible runs work, which reads and computes but writes nothing, and
// returns when it ends or as soon as ctx is cancelled (main's signal
// context): history, fit, forecast and backtest then end at once, their
// outputs never begun, instead of finishing a computation nobody waits for.
// A panic in work is raised again here, where main reports it as a bug.
func interruptible[T any](ctx context.Context, work func() (T, error)) (T, error) {
	type result struct {
		v     T
		err   error
		panic any
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r.panic = p
			}
			done <- r
		}()
		r.v, r.err = work()
	}()
	var zero T
	select {
	case r := <-done:
		if r.panic != nil {
			panic(r.panic)
		}
		return r.v, r.err
	case <-ctx.Done():
		return zero, errInterrupted
	}
}

// notInterrupted is checked just before a command writes its output.
func notInterrupted(ctx context.Context, out string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted (Ctrl-C or SIGTERM): %s not written", out)
	}
	return nil
}
