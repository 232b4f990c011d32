package tokenwire

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// serverAddr is the one live server every test in this package shares: the real one,
// with the default model and one slot (clients/conformance/README.md).
var serverAddr string

func TestMain(m *testing.M) {
	stop, addr, err := startServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the server:", err)
		os.Exit(1)
	}
	serverAddr = addr
	code := m.Run()
	stop()
	os.Exit(code)
}

// startServer runs `python -m server` from the repository's venv on port 0 and reads
// the address it prints.
func startServer() (func(), string, error) {
	root, _ := filepath.Abs("../..")
	models, err := os.MkdirTemp("", "tokenwire-go-")
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(filepath.Join(root, ".venv", "bin", "python"), "-m", "server")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "OLLAMA_MODELS="+models, "TOKENWIRE_GRPC_ADDR=127.0.0.1:0", "OLLAMA_NUM_PARALLEL=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
		}
		_ = os.RemoveAll(models)
	}
	listening := regexp.MustCompile(`listening on (\S+):(\d+)`)
	found := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(out)
		for scanner.Scan() {
			if m := listening.FindStringSubmatch(scanner.Text()); m != nil {
				found <- m[1] + ":" + m[2]
			}
		}
	}()
	select {
	case addr := <-found:
		return stop, addr, nil
	case <-time.After(120 * time.Second):
		stop()
		return nil, "", fmt.Errorf("the server did not start")
	}
}
