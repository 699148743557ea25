package stats

// rdtsc reads the time-stamp counter (clock_amd64.s).
func rdtsc() int64

func tscAvailable() bool { return true }
