package core

// Parking outside Go.
//
// A C thread blocked inside a cgo call on a Go channel is a goroutine locked
// to its thread: waking it costs a Go scheduler hand-off (startlockedm,
// stoplockedm, handoffp), a large share of a submit->result round trip
// (figures: benchmarks/README.md). So threads of the binding
// park instead on a token of their own outside Go (a C semaphore), and Go
// only posts it, through the waker the binding installs once at start-up.
// A token is registered while its thread waits and must stay valid until it
// is unregistered (or was posted, which unregisters it).

var waker func(token uintptr)

// SetWaker installs the function that posts a token. It is called once,
// before any token is registered.
func SetWaker(fn func(token uintptr)) { waker = fn }

// AddToken registers a token to post when the future is done. It returns
// false, registering nothing, when the future is done already.
func (f *Future) AddToken(tok uintptr) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.tokens = append(f.tokens, tok)
	return true
}

// RemoveToken unregisters tok; once it returns, tok will not be posted
// (it may have been already).
func (f *Future) RemoveToken(tok uintptr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, t := range f.tokens {
		if t == tok {
			last := len(f.tokens) - 1
			f.tokens[i] = f.tokens[last]
			f.tokens = f.tokens[:last]
			return
		}
	}
}

// postTokensLocked posts every registered token and forgets them. mu held.
func (f *Future) postTokensLocked() {
	for _, t := range f.tokens {
		waker(t)
	}
	f.tokens = nil
}
