package api

import (
	"errors"
	"net/http"
)

// Sentinel errors. A Backend wraps them (fmt.Errorf("service %q: %w", name,
// ErrNotFound)); the handler maps them to HTTP status codes and the Client
// maps the status codes back, so errors.Is works on both sides of the socket.
var (
	ErrNotFound  = errors.New("not found")         // 404
	ErrInvalid   = errors.New("invalid request")   // 400
	ErrConflict  = errors.New("conflict")          // 409
	ErrForbidden = errors.New("permission denied") // 403
)

// statusErrors pairs each sentinel with its HTTP status.
var statusErrors = []struct {
	status int
	err    error
}{
	{http.StatusNotFound, ErrNotFound},
	{http.StatusBadRequest, ErrInvalid},
	{http.StatusConflict, ErrConflict},
	{http.StatusForbidden, ErrForbidden},
}

// StatusOf returns the HTTP status for err: the status of the sentinel it
// wraps, else 500.
func StatusOf(err error) int {
	for _, se := range statusErrors {
		if errors.Is(err, se.err) {
			return se.status
		}
	}
	return http.StatusInternalServerError
}

// Error is an error answered by the server: its HTTP status and message.
// It unwraps to the sentinel of its status, if any.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the sentinel matching the status, or nil.
func (e *Error) Unwrap() error {
	for _, se := range statusErrors {
		if se.status == e.Status {
			return se.err
		}
	}
	return nil
}

// errorBody is the JSON body of every non-2xx response.
type errorBody struct {
	Error string `json:"error"`
}
