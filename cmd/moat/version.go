package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// readBuildInfo is debug.ReadBuildInfo; tests replace it.
var readBuildInfo = debug.ReadBuildInfo

// runVersion is `moat version`: three lines, the version (-ldflags
// "-X main.version=...", else the module version of `go install`, else
// "dev"), the VCS commit recorded by the Go toolchain (with "(modified)" for
// a dirty tree), and the Go version and platform.
func runVersion(_ context.Context, c *cli, args []string) int {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
			fmt.Fprintln(c.stdout, "Usage: moat version\n\nPrints the version, the commit and the Go version moat was built with.")
			return exitOK
		}
		fmt.Fprintf(c.stderr, "moat version: unexpected argument %q\nRun 'moat help' for usage.\n", args[0])
		return exitUsage
	}
	v, commit := version, "unknown"
	if bi, ok := readBuildInfo(); ok {
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		var modified bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if modified && commit != "unknown" {
			commit += " (modified)"
		}
	}
	fmt.Fprintf(c.stdout, "moat %s\ncommit: %s\ngo: %s %s/%s\n", v, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}
