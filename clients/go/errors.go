package tokenwire

import (
	"errors"
	"fmt"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// StatusError is Ollama's api.StatusError: the HTTP status the REST shim would have
// answered and the server's message. It also keeps the gRPC status: status.FromError
// and status.Code see it, and errors.Unwrap gives the original error.
type StatusError struct {
	StatusCode   int
	Status       string
	ErrorMessage string `json:"error"`
	err          error
}

func (e StatusError) Error() string {
	switch {
	case e.Status != "" && e.ErrorMessage != "":
		return fmt.Sprintf("%s: %s", e.Status, e.ErrorMessage)
	case e.Status != "":
		return e.Status
	default:
		return e.ErrorMessage
	}
}

func (e StatusError) Unwrap() error { return e.err }

// GRPCStatus lets status.FromError and status.Code read the gRPC status.
func (e StatusError) GRPCStatus() *status.Status {
	st, _ := status.FromError(e.err)
	return st
}

// httpStatus is the table the REST shim answers with (tokenwire_common/status.py); the
// conformance cases check both stay the same.
var httpStatus = map[codes.Code]int{
	codes.OK:                 200,
	codes.InvalidArgument:    400,
	codes.FailedPrecondition: 400,
	codes.OutOfRange:         400,
	codes.Unauthenticated:    401,
	codes.PermissionDenied:   403,
	codes.NotFound:           404,
	codes.AlreadyExists:      409,
	codes.Aborted:            409,
	codes.Canceled:           499,
	codes.Unknown:            500,
	codes.Internal:           500,
	codes.DataLoss:           500,
	codes.Unimplemented:      501,
	codes.ResourceExhausted:  503,
	codes.Unavailable:        503,
	codes.DeadlineExceeded:   504,
}

// asStatusError turns a failed call's error into a StatusError; context errors (the
// caller's own cancel) pass through unchanged.
func asStatusError(err error) error {
	if err == nil || errors.Is(err, errLeft) {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	code, found := httpStatus[st.Code()]
	if !found {
		code = 500
	}
	message := st.Message()
	if st.Code() == codes.DeadlineExceeded {
		message = "Deadline Exceeded"
	}
	text := http.StatusText(code)
	if code == 499 {
		text = "Client Closed Request"
	}
	return StatusError{StatusCode: code, Status: fmt.Sprintf("%d %s", code, text), ErrorMessage: message, err: err}
}
