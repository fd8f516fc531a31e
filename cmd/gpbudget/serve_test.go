package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs 'gpbudget serve' with args until the returned stop is
// called; it returns the URL it printed and its output.
func startServe(t *testing.T, args ...string) (url string, out *syncBuffer, stop func() error) {
	t.Helper()
	app := newApp()
	out = &syncBuffer{}
	app.Writer, app.ErrWriter = out, out
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- app.RunContext(ctx, append([]string{"gpbudget", "serve", "--data", t.TempDir()}, args...))
	}()
	re := regexp.MustCompile(`gpbudget serve: (http://\S+/)`)
	for i := 0; i < 200; i++ {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended at once: %v\n%s", err, out)
		case <-time.After(25 * time.Millisecond):
		}
	}
	if url == "" {
		cancel()
		t.Fatalf("serve printed no URL:\n%s", out)
	}
	return url, out, func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			return errors.New("serve did not stop")
		}
	}
}

// serve listens on loopback by default, prints where, answers the page,
// and stops cleanly; beyond loopback it says so loudly.
func TestServe(t *testing.T) {
	url, out, stop := startServe(t, "--addr", "127.0.0.1:0")
	if !strings.HasPrefix(url, "http://127.0.0.1:") || strings.Contains(out.String(), "WARNING") {
		t.Errorf("loopback: %s\n%s", url, out)
	}
	res, err := http.Get(url)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %v", url, err)
	}
	res.Body.Close()
	if err := stop(); err != nil || !strings.Contains(out.String(), "stopped") {
		t.Errorf("stop: %v\n%s", err, out)
	}

	_, out, stop = startServe(t, "--addr", "0.0.0.0:0")
	if !strings.Contains(out.String(), "(--addr 0.0.0.0:0), which other machines can reach") || !strings.Contains(out.String(), "no login") {
		t.Errorf("no warning beyond loopback:\n%s", out)
	}
	if err := stop(); err != nil {
		t.Error(err)
	}
	if flagDefault(t, "addr") != "127.0.0.1:8080" {
		t.Errorf("default --addr %q", flagDefault(t, "addr"))
	}
}

func flagDefault(t *testing.T, name string) string {
	for _, f := range serveCommand().Flags {
		if f.Names()[0] == name {
			return f.(interface{ GetValue() string }).GetValue()
		}
	}
	t.Fatalf("no flag %s", name)
	return ""
}

// Bad flags are bad input (exit status 2), named.
func TestServeBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"--max-upload", "lots"}, "--max-upload"},
		{[]string{"--max-upload", "12"}, "--max-upload"},
		{[]string{"--max-runs", "0"}, "--max-runs"},
		{[]string{"--max-patient-years", "0"}, "--max-patient-years"},
		{[]string{"--addr", "not-an-address"}, "--addr"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		app := newApp()
		var out bytes.Buffer
		app.Writer, app.ErrWriter = &out, &out
		err := app.Run(append([]string{"gpbudget", "serve", "--data", t.TempDir()}, c.args...))
		var ie inputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("serve %v: %v, want bad input naming %s", c.args, err, c.says)
		}
	}
	for s, want := range map[string]int64{"64MiB": 64 << 20, "2 KB": 2000, "100": 100, "1.5GiB": 3 << 29} {
		if got, err := parseSize(s); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v", s, got, err)
		}
	}
}
