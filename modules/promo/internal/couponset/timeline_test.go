package couponset

import (
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestBuildReportsItsTimeline(t *testing.T) {
	defer func(b int) { bucketMaxBuf = b }(bucketMaxBuf)
	bucketMaxBuf = 16 << 10 // so that the big file spills
	var big strings.Builder
	for i := range 50000 {
		fmt.Fprintf(&big, "%08X\n", uint32(i*2654435761))
	}
	dir := t.TempDir()
	files := writeFiles(t, dir, big.String()+"HAPPYHRS\n", "HAPPYHRS\nBIRTHDAY\n", "BIRTHDAY\n")
	_, st := mustBuild(t, Options{Files: files, IndexPath: filepath.Join(dir, "x.idx"), Decoder: DecoderKlauspost})

	var names []string
	for _, p := range st.Phases {
		names = append(names, p.Name)
		if p.Start < 0 || p.End < p.Start || p.End > st.Duration {
			t.Errorf("%s runs from %v to %v in a build of %v", p.Name, p.Start, p.End, st.Duration)
		}
		if p.Busy <= 0 {
			t.Errorf("%s took no time", p.Name)
		}
	}
	for _, want := range []string{"inflate fa.gz", "parse fa.gz", "inflate fc.gz", "parse fc.gz", "spill writes", "join", "make set", "write index"} {
		if !slices.Contains(names, want) {
			t.Errorf("no phase %q in %q", want, names)
		}
	}
	if runtime.GOOS != "linux" {
		return
	}
	var parse Phase
	for _, p := range st.Phases {
		if p.Name == "parse fa.gz" {
			parse = p
		}
	}
	if parse.CPU <= 0 || st.CPU < parse.CPU {
		t.Errorf("parse of the big file used %v CPU, the build %v", parse.CPU, st.CPU)
	}
}
