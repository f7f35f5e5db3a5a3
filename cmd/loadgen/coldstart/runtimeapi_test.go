package coldstart

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeRuntime plays the bootstrap's side of the Runtime API with plain HTTP. It runs in
// goroutines, so it reports failures with t.Errorf (t.Fatal must stay on the test's goroutine)
// and its callers stop at the first one.
type fakeRuntime struct {
	t    *testing.T
	base string
}

func (f fakeRuntime) next() (id string, body string, h http.Header, ok bool) {
	f.t.Helper()
	resp, err := http.Get(f.base + "/invocation/next")
	if err != nil {
		f.t.Errorf("GET next: %v", err)
		return "", "", nil, false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		f.t.Errorf("GET next: %d %s", resp.StatusCode, b)
		return "", "", nil, false
	}
	return resp.Header.Get(HeaderRequestID), string(b), resp.Header, true
}

func (f fakeRuntime) post(path, body string) int {
	f.t.Helper()
	resp, err := http.Post(f.base+path, "application/json", strings.NewReader(body))
	if err != nil {
		f.t.Errorf("POST %s: %v", path, err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func newAPI(t *testing.T) (*Pool, fakeRuntime) {
	t.Helper()
	api := NewPool(nil, "", nil, nil)
	t.Cleanup(func() { api.Stop() })
	return api, fakeRuntime{t: t, base: "http://" + api.Addr() + Prefix}
}

// bounded is the context of an Invoke answered by a fakeRuntime goroutine: if that goroutine
// fails, the Invoke ends instead of waiting forever, and the goroutine's error fails the test.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRuntimeAPI(t *testing.T) {
	t.Run("an event reaches GET next with the headers aws-lambda-go reads, and the answer reaches Invoke", func(t *testing.T) {
		api, rt := newAPI(t)
		go func() {
			id, body, h, ok := rt.next()
			if !ok {
				return
			}
			deadline, err := strconv.ParseInt(h.Get(HeaderDeadlineMS), 10, 64)
			if err != nil || time.UnixMilli(deadline).Before(time.Now()) || h.Get(HeaderFunctionARN) == "" {
				body = "bad headers: " + h.Get(HeaderDeadlineMS) + " " + h.Get(HeaderFunctionARN)
			}
			rt.post("/invocation/"+id+"/response", `{"echo":`+strconv.Quote(body)+`}`)
		}()
		resp, err := api.Invoke(bounded(t), []byte("hello"))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Error || string(resp.Body) != `{"echo":"hello"}` {
			t.Fatalf("response %+v %s", resp, resp.Body)
		}
		if n := api.Nexts(); n != 1 {
			t.Fatalf("%d GET next, want 1", n)
		}
	})
	t.Run("a POST to error is an answer marked as an error", func(t *testing.T) {
		api, rt := newAPI(t)
		go func() {
			id, _, _, ok := rt.next()
			if !ok {
				return
			}
			rt.post("/invocation/"+id+"/error", `{"errorMessage":"boom"}`)
		}()
		resp, err := api.Invoke(bounded(t), []byte("{}"))
		if err != nil || !resp.Error || !strings.Contains(string(resp.Body), "boom") {
			t.Fatalf("Invoke = %+v, %v", resp, err)
		}
	})
	t.Run("an init error joins the last output a failed start reports", func(t *testing.T) {
		api, rt := newAPI(t)
		if code := rt.post("/init/error", `{"errorMessage":"no config"}`); code != http.StatusAccepted || !strings.Contains(api.lastOutput(), "no config") {
			t.Fatalf("status %d, last output %q", code, api.lastOutput())
		}
	})
	t.Run("an answer for an unknown request id is refused", func(t *testing.T) {
		_, rt := newAPI(t)
		if code := rt.post("/invocation/nope/response", "{}"); code != http.StatusBadRequest {
			t.Fatalf("status %d", code)
		}
	})
	t.Run("Invoke gives up when its context ends before the function asks", func(t *testing.T) {
		api, _ := newAPI(t)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := api.Invoke(ctx, []byte("{}")); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Invoke error = %v", err)
		}
	})
	t.Run("Stop releases a GET next that waits", func(t *testing.T) {
		api, rt := newAPI(t)
		done := make(chan int)
		go func() {
			resp, err := http.Get(rt.base + "/invocation/next")
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		select {
		case <-api.arrived: // the GET next is in, and waits
		case code := <-done:
			t.Fatalf("GET next ended before Stop: %d", code)
		}
		api.Stop()
		if code := <-done; code != http.StatusGone {
			t.Fatalf("status %d", code)
		}
	})
}

// TestRuntimeAPISharedByProcesses: two runtimes wait in GET next at once; each event goes to
// one of them, both answers come back to their Invoke, and arrived fired for the arrivals.
func TestRuntimeAPISharedByProcesses(t *testing.T) {
	api, rt := newAPI(t)
	for range 2 {
		go func() {
			id, body, _, ok := rt.next()
			if ok {
				rt.post("/invocation/"+id+"/response", body)
			}
		}()
		select {
		case <-api.arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("arrived did not fire")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	answers := make(chan string, 2)
	for _, ev := range []string{`{"a":1}`, `{"b":2}`} {
		go func() {
			r, err := api.Invoke(ctx, []byte(ev))
			if err != nil {
				answers <- err.Error()
				return
			}
			answers <- string(r.Body)
		}()
	}
	got := map[string]bool{<-answers: true, <-answers: true}
	if !got[`{"a":1}`] || !got[`{"b":2}`] {
		t.Fatalf("answers %v", got)
	}
	if n := api.Nexts(); n != 2 {
		t.Fatalf("%d GET next, want 2", n)
	}
}
