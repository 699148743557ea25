// Round trip between two C threads: C semaphores vs blocking on a Go
// channel inside a cgo callback (what a gofutures worker and result() do).
// go run ./pingpong (from benchmarks/go)
package main

/*
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <time.h>
extern void goWait(int);
extern void goSignal(int);
extern void goNoop(int);
static sem_t sems[2];
static int N, mode;
static void wt(int i) { if (mode == 1) goWait(i); else { if (mode == 2) goNoop(i); sem_wait(&sems[i]); } }
static void sg(int i) { if (mode == 1) goSignal(i); else { if (mode == 2) goNoop(i); sem_post(&sems[i]); } }
static void *pong(void *a) { for (int i = 0; i < N; i++) { wt(1); sg(0); } return 0; }
static double run(int m, int n) {
    mode = m; N = n; sem_init(&sems[0], 0, 0); sem_init(&sems[1], 0, 0);
    pthread_t t; pthread_create(&t, 0, pong, 0);
    struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++) { sg(1); wt(0); }
    clock_gettime(CLOCK_MONOTONIC, &b); pthread_join(t, 0);
    return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n / 1000.0;
}
*/
import "C"
import "fmt"

var chans = [2]chan struct{}{make(chan struct{}, 1), make(chan struct{}, 1)}

//export goWait
func goWait(i C.int) { <-chans[i] }

//export goSignal
func goSignal(i C.int) { chans[i] <- struct{}{} }

//export goNoop
func goNoop(i C.int) {}

func main() {
	for r := 0; r < 3; r++ {
		fmt.Printf("round trip between two C threads: sem_t %.1f µs | cgo call + sem_t %.1f µs | blocking on a Go channel in a cgo callback %.1f µs\n",
			float64(C.run(0, 20000)), float64(C.run(2, 20000)), float64(C.run(1, 20000)))
	}
}
