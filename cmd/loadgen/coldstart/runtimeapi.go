package coldstart

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Header names of the Lambda Runtime API (2018-06-01), as aws-lambda-go reads them; Prefix is
// the path prefix of its endpoints.
const (
	HeaderRequestID   = "Lambda-Runtime-Aws-Request-Id"
	HeaderDeadlineMS  = "Lambda-Runtime-Deadline-Ms"
	HeaderFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	Prefix            = "/2018-06-01/runtime"
)

// ErrInit is returned by Invoke when the runtime reported an initialisation error.
var ErrInit = errors.New("coldstart: the function reported an init error")

// Response is what the function posted for one invocation.
type Response struct {
	RequestID string
	At        time.Time // when the POST arrived
	Body      []byte
	Error     bool // a POST to .../error (the handler failed) rather than .../response
}

// RuntimeAPI is an in-process fake of the Lambda Runtime API: the endpoints a custom runtime
// (a provided.al2023 bootstrap) calls. GET .../invocation/next blocks until Invoke hands it an
// event; POST .../response and .../error complete that invocation; POST .../init/error fails
// the pending Invoke with ErrInit. Processes sharing it are like the execution environments of
// one function: each event goes to one process waiting in GET .../invocation/next.
type RuntimeAPI struct {
	srv      *http.Server
	ln       net.Listener
	events   chan invocation
	initErrs chan []byte
	arrived  chan struct{}
	done     chan struct{}
	once     sync.Once
	seq      atomic.Int64
	mu       sync.Mutex
	nexts    []time.Time
	pending  map[string]chan Response
}

type invocation struct {
	id    string
	event []byte
}

// NewRuntimeAPI starts a fake Runtime API on a loopback port.
func NewRuntimeAPI() (*RuntimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("coldstart: listen: %w", err)
	}
	a := &RuntimeAPI{ln: ln, events: make(chan invocation), initErrs: make(chan []byte, 1), arrived: make(chan struct{}, 1),
		done: make(chan struct{}), pending: map[string]chan Response{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Prefix+"/invocation/next", a.next)
	mux.HandleFunc("POST "+Prefix+"/invocation/{id}/response", a.respond(false))
	mux.HandleFunc("POST "+Prefix+"/invocation/{id}/error", a.respond(true))
	mux.HandleFunc("POST "+Prefix+"/init/error", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case a.initErrs <- body:
		default:
		}
		w.WriteHeader(http.StatusAccepted)
	})
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.srv.Serve(ln) }()
	return a, nil
}

// Addr is the value of AWS_LAMBDA_RUNTIME_API: host:port, without a scheme.
func (a *RuntimeAPI) Addr() string { return a.ln.Addr().String() }

// Close stops the server; a GET .../next still waiting returns 410 Gone.
func (a *RuntimeAPI) Close() error {
	a.once.Do(func() { close(a.done) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return a.srv.Shutdown(ctx)
}

// Nexts returns the arrival times of every GET .../invocation/next so far.
func (a *RuntimeAPI) Nexts() []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Time(nil), a.nexts...)
}

// NextArrived receives a value after a GET .../invocation/next arrived (several arrivals
// before a receive give one value).
func (a *RuntimeAPI) NextArrived() <-chan struct{} { return a.arrived }

// Invoke hands event to the next GET .../invocation/next and waits for the function's answer,
// an init error (ErrInit), or the end of ctx.
func (a *RuntimeAPI) Invoke(ctx context.Context, event []byte) (Response, error) {
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", a.seq.Add(1))
	ch := make(chan Response, 1)
	a.mu.Lock()
	a.pending[id] = ch
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.pending, id)
		a.mu.Unlock()
	}()
	select {
	case a.events <- invocation{id: id, event: event}:
	case body := <-a.initErrs:
		return Response{}, fmt.Errorf("%w: %s", ErrInit, body)
	case <-ctx.Done():
		return Response{}, fmt.Errorf("coldstart: no GET /next: %w", ctx.Err())
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return Response{}, fmt.Errorf("coldstart: no answer to invocation %s: %w", id, ctx.Err())
	}
}

func (a *RuntimeAPI) next(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.nexts = append(a.nexts, time.Now())
	a.mu.Unlock()
	select {
	case a.arrived <- struct{}{}:
	default:
	}
	select {
	case inv := <-a.events:
		h := w.Header()
		h.Set(HeaderRequestID, inv.id)
		h.Set(HeaderDeadlineMS, strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
		h.Set(HeaderFunctionARN, "arn:aws:lambda:us-east-1:123456789012:function:coldstart")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.event)
	case <-r.Context().Done():
	case <-a.done:
		http.Error(w, "runtime API closed", http.StatusGone)
	}
}

func (a *RuntimeAPI) respond(isError bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		body, err := io.ReadAll(r.Body)
		a.mu.Lock()
		ch, ok := a.pending[r.PathValue("id")]
		a.mu.Unlock()
		if err != nil || !ok {
			http.Error(w, fmt.Sprintf("unknown request id %s (%v)", r.PathValue("id"), err), http.StatusBadRequest)
			return
		}
		ch <- Response{RequestID: r.PathValue("id"), At: at, Body: body, Error: isError}
		w.WriteHeader(http.StatusAccepted)
	}
}
