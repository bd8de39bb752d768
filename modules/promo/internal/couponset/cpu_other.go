//go:build !linux

package couponset

import "time"

// threadCPU is not measured here: the timeline shows wall times only.
func threadCPU() time.Duration { return 0 }

// processCPU is not measured here.
func processCPU() time.Duration { return 0 }
