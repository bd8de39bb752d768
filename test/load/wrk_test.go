package main

import (
	"io"
	"testing"
)

func TestParseWrk(t *testing.T) {
	out := `Running 10s test @ http://127.0.0.1:8080/api/product
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.01ms    1.10ms  30.12ms   80.00%
    Req/Sec    32.10k     1.20k   35.00k    70.00%
  319876 requests in 10.00s, 1.21GB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  31987.60
Transfer/sec:    123.45MB
`
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 319876 || r.Rate != 31987.60 || r.Errors != 7 {
		t.Fatalf("parsed %+v, want 319876 requests, 31987.60/s, 7 errors", r)
	}
	if r.Seconds != 10 || r.MeanMS != 2.01 {
		t.Errorf("parsed %v s and a mean of %v ms, want 10 and 2.01", r.Seconds, r.MeanMS)
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Fatal("no summary parsed without an error")
	}
}

func TestServerEnvOption(t *testing.T) {
	t.Setenv("LOADTEST_SERVER_ENV", "GOMEMLIMIT=1GiB")
	o, err := parseOptions([]string{"-server-env", "GOGC=400"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := o.serverEnv.String(); got != "GOMEMLIMIT=1GiB GOGC=400" {
		t.Errorf("server env %q, want both settings", got)
	}
	if _, err := parseOptions([]string{"-server-env", "GOGC"}, io.Discard); err == nil {
		t.Error("a value without KEY= was accepted")
	}
}
