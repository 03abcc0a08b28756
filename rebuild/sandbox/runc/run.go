package runc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/reprove/reprove/rebuild/sandbox"
)

// Run runs the container in the foreground and returns the script's exit
// code. When ctx ends, the container is killed. A watchdog outside
// reprove's process group kills it too if reprove dies, however it dies.
func (b *bundle) Run(ctx context.Context, out *os.File) (int, error) {
	stopWatchdog, err := b.startWatchdog()
	if err != nil {
		return -1, err
	}
	defer stopWatchdog()
	cmd := exec.Command(b.r.bin, "--root", b.r.root, "--log", b.path("runc.log"), "--log-format", "json",
		"run", "--bundle", b.dir, b.state.ID)
	cmd.Stdout = out
	cmd.Stderr = out
	// Its own process group: a terminal's Ctrl-C reaches us, and we decide.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("starting runc: %w", err)
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go b.disk.Watch(watchCtx, b.kill)
	code, err := b.wait(ctx, cmd)
	stopWatch()
	if err != nil || ctx.Err() != nil {
		return code, err
	}
	if err := b.disk.Reclaim(); err != nil {
		return code, err
	}
	if b.disk.Full() {
		return code, sandbox.DiskLimitError(b.disk.Limit())
	}
	if msg := runcErrors(b.path("runc.log")); msg != "" {
		return code, fmt.Errorf("runc could not run the build container: %s", msg)
	}
	return code, nil
}

// wait waits for runc, killing the container when ctx ends.
func (b *bundle) wait(ctx context.Context, cmd *exec.Cmd) (int, error) {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var waitErr error
	select {
	case waitErr = <-done:
	case <-ctx.Done():
		b.kill()
		select {
		case waitErr = <-done:
		case <-time.After(b.r.killWait):
			// runc did not return: kill it; Close's delete --force
			// takes the container down.
			cmd.Process.Kill()
			waitErr = <-done
		}
	}
	if waitErr != nil {
		var ee *exec.ExitError
		if !errors.As(waitErr, &ee) {
			return -1, fmt.Errorf("running runc: %w", waitErr)
		}
		return ee.ExitCode(), nil
	}
	return 0, nil
}

// kill sends SIGKILL to the container's init: the kernel then kills every
// other process in its pid namespace.
func (b *bundle) kill() {
	exec.Command(b.r.bin, "--root", b.r.root, "kill", b.state.ID, "KILL").Run()
}

// watchdogScript waits for a line on stdin; anything but "done" — the
// pipe closed because reprove died — kills the container, trying for five
// seconds in case runc is still creating it.
const watchdogScript = `read line; [ "$line" = done ] && exit 0
i=0; while [ $i -lt 25 ]; do "$0" --root "$1" kill "$2" KILL 2>/dev/null && exit 0; sleep 0.2; i=$((i+1)); done`

// startWatchdog starts a shell in its own session that kills the
// container when reprove's end of a pipe closes without a "done": the
// kernel closes it when reprove dies, by any signal. stop tells it the run
// ended normally.
func (b *bundle) startWatchdog() (stop func(), err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("starting the build's watchdog: %w", err)
	}
	defer r.Close()
	cmd := exec.Command("/bin/sh", "-c", watchdogScript, b.r.bin, b.r.root, b.state.ID)
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("starting the build's watchdog: %w", err)
	}
	return func() {
		w.Write([]byte("done\n"))
		w.Close()
		cmd.Wait()
	}, nil
}

// runcErrors returns runc's own error messages from its JSON log.
func runcErrors(p string) string {
	f, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	var msgs []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var l struct{ Level, Msg string }
		if json.Unmarshal(sc.Bytes(), &l) == nil && (l.Level == "error" || l.Level == "fatal") {
			msgs = append(msgs, l.Msg)
		}
	}
	return strings.Join(msgs, "; ")
}
