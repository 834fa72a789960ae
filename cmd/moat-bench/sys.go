package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
)

// sourceAddrs hands out loopback source addresses 127.1.x.y round robin.
// Linux gives each source address its own ~28,000 ephemeral ports towards
// one broker address, so many connections (idle) or many short ones in
// TIME_WAIT (connect) need several.
type sourceAddrs struct {
	addrs []*net.TCPAddr
	n     atomic.Uint64
}

// newSourceAddrs returns n addresses, or nil when n is 0 or the broker is
// not on IPv4 loopback (IPv6 has only ::1).
func newSourceAddrs(n int, broker string) *sourceAddrs {
	host, _, _ := net.SplitHostPort(broker)
	ip := net.ParseIP(host)
	if host == "localhost" {
		ip = net.IPv4(127, 0, 0, 1)
	}
	if n <= 0 || ip == nil || ip.To4() == nil || !ip.IsLoopback() {
		return nil
	}
	s := &sourceAddrs{}
	for i := range n {
		s.addrs = append(s.addrs, &net.TCPAddr{IP: net.IPv4(127, 1, byte(i/250), byte(i%250+1))})
	}
	return s
}

// next returns the next source address.
func (s *sourceAddrs) next() *net.TCPAddr {
	return s.addrs[(s.n.Add(1)-1)%uint64(len(s.addrs))]
}

// control returns the socket option hook for net.Dialer: with source
// addresses, IP_BIND_ADDRESS_NO_PORT lets connect() pick the port per
// 4-tuple instead of bind() reserving one per address.
func (s *sourceAddrs) control() func(network, address string, c syscall.RawConn) error {
	if s == nil {
		return nil
	}
	return bindNoPort
}

// raiseNoFile raises RLIMIT_NOFILE to at least want descriptors: the soft
// limit up to the hard one, and the hard one too when the process may
// (root). It returns the soft limit in force.
func raiseNoFile(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur >= want {
		return lim.Cur, nil
	}
	if lim.Max < want {
		raised := syscall.Rlimit{Cur: want, Max: want}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			return want, nil
		}
	}
	lim.Cur = min(want, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return lim.Cur, nil
}

// procRSS returns the resident set size of pid in bytes (VmRSS in
// /proc/<pid>/status), or -1 if pid is 0 or unreadable.
func procRSS(pid int) int64 {
	if pid <= 0 {
		return -1
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for line := range bytes.Lines(b) {
		if f := bytes.Fields(line); len(f) >= 2 && string(f[0]) == "VmRSS:" {
			kb, err := strconv.ParseInt(string(f[1]), 10, 64)
			if err != nil {
				return -1
			}
			return kb * 1024
		}
	}
	return -1
}

// procCPU returns the user+system CPU seconds of pid (fields 14 and 15 of
// /proc/<pid>/stat, in 100 Hz ticks), or -1.
func procCPU(pid int) float64 {
	if pid <= 0 {
		return -1
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3
	if len(f) < 13 {
		return -1
	}
	u, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	s, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return float64(u+s) / 100
}

// selfCPU returns this process's user+system CPU seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return -1
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
