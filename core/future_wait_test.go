package core

import "time"

// Wait is the tests' way to block until a future is done (the product
// parks on tokens: park.go). It polls, so that no production code keeps a
// channel only the tests use. A negative timeout waits forever.
func (f *Future) Wait(timeout time.Duration) bool {
	if timeout == 0 {
		return f.State().Done()
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for !f.State().Done() {
		if timeout > 0 && !time.Now().Before(deadline) {
			return f.State().Done()
		}
		time.Sleep(50 * time.Microsecond)
	}
	return true
}
