package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/moat-iot/moat/internal/config"
)

// Exit codes.
const (
	exitOK    = 0 // clean stop, or help/version printed
	exitError = 1 // the server failed; one line on stderr says why
	exitUsage = 2 // bad subcommand, flag, environment variable or config
)

// serveFunc runs the server until ctx is cancelled; main passes serve, tests
// pass a fake.
type serveFunc func(ctx context.Context, cfg config.Config, log *slog.Logger) error

// cli is what a subcommand may use: its streams, the environment and the
// server entry point. Subcommands never read os.* directly.
type cli struct {
	lookupEnv func(string) (string, bool)
	stdout    io.Writer
	stderr    io.Writer
	serve     serveFunc
}

// command is one subcommand. To add one (say `policy explain`), append it
// to commands; a command with its own subcommands dispatches on args[0]
// itself.
type command struct {
	name    string
	summary string // one line for `moat help`
	run     func(ctx context.Context, c *cli, args []string) int
}

// commands is the dispatch table, in the order `moat help` lists them.
var commands = []command{
	{"serve", "run the server: MQTT over TLS and the AWS IoT APIs (iot, iot-data)", runServe},
	{"policy", "explain a device's policy decision: moat policy explain --help", runPolicy},
	{"version", "print the version, the commit and the Go version", runVersion},
}

// run is the whole program minus process setup: it dispatches args (without
// the program name) to a subcommand and returns the exit code.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer, serve serveFunc) int {
	c := &cli{lookupEnv: lookupEnv, stdout: stdout, stderr: stderr, serve: serve}
	if len(args) == 0 {
		writeUsage(stderr)
		return exitUsage
	}
	switch name := args[0]; name {
	case "help", "-h", "-help", "--help":
		return c.help(ctx, args[1:])
	case "-version", "--version":
		return runVersion(ctx, c, args[1:])
	default:
		if cmd := lookup(name); cmd != nil {
			return cmd.run(ctx, c, args[1:])
		}
		if strings.HasPrefix(name, "-") {
			fmt.Fprintf(stderr, "moat: unknown flag %s: flags go after the command, as in: moat serve --data-dir ./moat-data\n", name)
		} else {
			fmt.Fprintf(stderr, "moat: unknown command %q%s\n", name, suggest(name))
		}
		fmt.Fprintln(stderr, "Run 'moat help' for usage.")
		return exitUsage
	}
}

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// suggest returns "; did you mean X?" when name looks like a command.
func suggest(name string) string {
	for _, cmd := range commands {
		if len(name) >= 3 && (strings.HasPrefix(cmd.name, name) || strings.HasPrefix(name, cmd.name)) {
			return fmt.Sprintf("; did you mean %q?", cmd.name)
		}
	}
	return ""
}

// help serves `moat help [command]`.
func (c *cli) help(ctx context.Context, args []string) int {
	if len(args) == 0 {
		writeUsage(c.stdout)
		return exitOK
	}
	if lookup(args[0]) == nil {
		fmt.Fprintf(c.stderr, "moat help: unknown command %q\nRun 'moat help' for usage.\n", args[0])
		return exitUsage
	}
	return lookup(args[0]).run(ctx, c, []string{"--help"})
}

func writeUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString(`moat is a self-hosted IoT platform compatible with AWS IoT Core: devices, the
AWS CLI and the AWS SDKs work with it by changing only the endpoint and the CA.

Usage:
  moat <command> [flags]

Commands:
`)
	for _, cmd := range commands {
		fmt.Fprintf(&b, "  %-9s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintf(&b, "  %-9s %s\n", "help", "show this help, or a command's: moat help serve")
	b.WriteString(`
Example:
  moat serve --data-dir ./moat-data

Run 'moat <command> --help' for a command's flags. README.md in the source
tree is the guide to get started.
`)
	io.WriteString(w, b.String())
}

const serveUsage = `Usage: moat serve [flags]

Runs moat until SIGINT or SIGTERM: MQTT over TLS on --mqtt-addr; the AWS IoT
APIs, MQTT over WebSocket (/mqtt), the console (/console) and /health on
--https-addr. The first start creates, in the data dir, root-ca.pem (the CA
that devices and API clients trust) and admin.credentials (AWS credentials of
an administrator); later starts reuse them.

Example:
  moat serve --data-dir ./moat-data --hostname iot.example.com

On SIGINT or SIGTERM moat stops gracefully, within --shutdown-timeout; a second
signal ends it at once. Exit status: 0 after a clean stop, 1 if the server
fails, 2 on a usage or configuration error.

`

// runServe is `moat serve`.
func runServe(ctx context.Context, c *cli, args []string) int {
	cfg, err := config.Load(args, c.lookupEnv)
	if errors.Is(err, flag.ErrHelp) {
		io.WriteString(c.stdout, serveUsage)
		config.WriteHelp(c.stdout)
		return exitOK
	}
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(c.stderr, "moat serve: %s\n", line)
		}
		fmt.Fprintln(c.stderr, "Run 'moat serve --help' for the flags, environment variables and config file.")
		return exitUsage
	}
	log, err := config.NewLogger(cfg, c.stderr)
	if err != nil { // unreachable: Load validated the config
		fmt.Fprintf(c.stderr, "moat serve: %v\n", err)
		return exitUsage
	}
	log.Info("moat starting", "version", version, "config_file", cfg.ConfigFile, "data_dir", cfg.DataDir)
	err = c.serve(ctx, cfg, log)
	if err != nil && !(errors.Is(err, context.Canceled) && ctx.Err() != nil) {
		fmt.Fprintf(c.stderr, "moat serve: %s\n", oneLine(err))
		return exitError
	}
	return exitOK
}

// oneLine joins the lines of a (possibly errors.Join-ed) error with "; ".
func oneLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}
