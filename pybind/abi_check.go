package main

/*
#include "abi.h"
*/
import "C"

import (
	"github.com/gofutures/gofutures/core"
	"github.com/gofutures/gofutures/core/stats"
)

// The constants of pybind/abi.h (what the C shim reads) against the core
// values they stand for: each line below is an array index that is a
// constant 0 only while the two are equal, so a difference fails the build
// ("index out of bounds" or "must not be negative"), not a test.
var (
	_ = [1]struct{}{}[int(C.GF_ST_PENDING)-int(core.Pending)]
	_ = [1]struct{}{}[int(C.GF_ST_RUNNING)-int(core.Running)]
	_ = [1]struct{}{}[int(C.GF_ST_CANCELLED)-int(core.Cancelled)]
	_ = [1]struct{}{}[int(C.GF_ST_CANCELLED_AND_NOTIFIED)-int(core.CancelledAndNotified)]
	_ = [1]struct{}{}[int(C.GF_ST_FINISHED)-int(core.Finished)]

	_ = [1]struct{}{}[int(C.GF_OUT_RESULT)-int(core.OutcomeResult)]
	_ = [1]struct{}{}[int(C.GF_OUT_EXCEPTION)-int(core.OutcomeException)]
	_ = [1]struct{}{}[int(C.GF_OUT_CANCELLED)-int(core.OutcomeCancelled)]

	_ = [1]struct{}{}[int(C.GF_WK_AS_COMPLETED)-int(core.AsCompleted)]
	_ = [1]struct{}{}[int(C.GF_WK_FIRST_COMPLETED)-int(core.FirstCompleted)]
	_ = [1]struct{}{}[int(C.GF_WK_FIRST_EXCEPTION)-int(core.FirstException)]
	_ = [1]struct{}{}[int(C.GF_WK_ALL_COMPLETED)-int(core.AllCompleted)]

	_ = [1]struct{}{}[int(C.GF_TASK_NONE)-int(stats.OutcomeNone)]
	_ = [1]struct{}{}[int(C.GF_TASK_OK)-int(stats.OutcomeOK)]
	_ = [1]struct{}{}[int(C.GF_TASK_FAILED)-int(stats.OutcomeFailed)]
	_ = [1]struct{}{}[int(C.GF_TASK_CANCELLED)-int(stats.OutcomeCancelled)]

	_ = [1]struct{}{}[int(C.GF_NEXT_EXIT)-core.NextExit]
	_ = [1]struct{}{}[int(C.GF_NEXT_PARKED)-core.NextParked]
	_ = [1]struct{}{}[int(C.GF_NEXT_TASK)-core.NextTask]
	_ = [1]struct{}{}[int(C.GF_NEXT_CANCELLED)-core.NextCancelled]

	_ = [1]struct{}{}[int(C.GF_EV_DELIVER)-core.EvDeliver]
	_ = [1]struct{}{}[int(C.GF_EV_SPAWN)-core.EvSpawn]
	_ = [1]struct{}{}[int(C.GF_EV_REAP)-core.EvReap]
	_ = [1]struct{}{}[int(C.GF_EV_BROKEN)-core.EvBroken]
	_ = [1]struct{}{}[int(C.GF_EV_DONE)-core.EvDone]
	_ = [1]struct{}{}[int(C.GF_EV_EXITED)-core.EvExited]

	_ = [1]struct{}{}[int(C.GF_TAG_RESULT)-int(core.TagResult)]
	_ = [1]struct{}{}[int(C.GF_TAG_EXCEPTION)-int(core.TagException)]
	_ = [1]struct{}{}[int(C.GF_TAG_BROKEN)-int(core.TagBroken)]
	_ = [1]struct{}{}[int(C.GF_TAG_TIMEOUT)-int(core.TagTimeout)]
	_ = [1]struct{}{}[int(C.GF_TAG_BROKEN_MSG)-int(core.TagBrokenMsg)]
)
