package db

import (
	"testing"
	"testing/fstest"
)

func TestLatestVersion(t *testing.T) {
	file := &fstest.MapFile{Data: []byte("SELECT 1;")}
	tests := []struct {
		name string
		fs   fstest.MapFS
		want uint
	}{
		{"no migrations", fstest.MapFS{"embed.go": file}, 0},
		{"one", fstest.MapFS{"0001_a.up.sql": file, "0001_a.down.sql": file}, 1},
		{"gaps and order", fstest.MapFS{"0010_c.up.sql": file, "0002_b.up.sql": file, "0001_a.up.sql": file}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := latestVersion(tt.fs)
			if err != nil || got != tt.want {
				t.Errorf("latestVersion = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
	if v, err := EmbeddedVersion(); err != nil || v == 0 {
		t.Errorf("EmbeddedVersion = %d, %v; want the newest embedded migration", v, err)
	}
}
