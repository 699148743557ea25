//go:build !linux

package core

import "time"

// exitInfo is only implemented on Linux; elsewhere the cause says nothing
// of how the worker ended.
func exitInfo(pid int, wait time.Duration) string { return "" }
