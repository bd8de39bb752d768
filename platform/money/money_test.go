package money

import (
	"encoding/json"
	"testing"
)

func TestCentsJSON(t *testing.T) {
	tests := []struct {
		c    Cents
		want string
	}{
		{0, "0"}, {5, "0.05"}, {50, "0.5"}, {650, "6.5"}, {700, "7"}, {1234, "12.34"}, {-1234, "-12.34"}, {100001, "1000.01"},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.c)
		if err != nil || string(b) != tt.want {
			t.Errorf("Marshal(%d) = %s, %v; want %s", tt.c, b, err, tt.want)
		}
		if got := string(tt.c.Append([]byte("x"))); got != "x"+tt.want {
			t.Errorf("Append(%d) = %s, want x%s", tt.c, got, tt.want)
		}
		var f float64
		if err := json.Unmarshal(b, &f); err != nil || int64(f*100+0.5*sign(f)) != int64(tt.c) {
			t.Errorf("%s does not round-trip to %d cents", b, tt.c)
		}
	}
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

func TestParse(t *testing.T) {
	good := map[string]Cents{"5": 500, "5.5": 550, "5.50": 550, "0.05": 5, " 12.34 ": 1234}
	for in, want := range good {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", ".", "5.", ".5", "5.555", "-1", "abc", "1e3", "5.x"} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) succeeded, want error", in)
		}
	}
}

func TestPercentRoundsHalfUp(t *testing.T) {
	tests := []struct {
		c    Cents
		bp   int64
		want Cents
	}{
		{1000, 1000, 100}, {650, 1800, 117}, {1350, 1800, 243}, {5, 5000, 3}, {1, 1000, 0}, {999, 10000, 999},
	}
	for _, tt := range tests {
		if got := tt.c.Percent(tt.bp); got != tt.want {
			t.Errorf("%d.Percent(%d) = %d, want %d", tt.c, tt.bp, got, tt.want)
		}
	}
}
