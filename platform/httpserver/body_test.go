package httpserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestDecodeJSON(t *testing.T) {
	type widget struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		field  string
	}{
		{"an object", `{"name":"a","count":2,"extra":true}`, http.StatusOK, "", ""},
		{"empty", ``, http.StatusBadRequest, "INVALID_JSON", ""},
		{"an array", `[{"name":"a"}]`, http.StatusBadRequest, "INVALID_JSON", ""},
		{"broken", `{"name":`, http.StatusBadRequest, "INVALID_JSON", ""},
		{"trailing data", `{"name":"a"} {}`, http.StatusBadRequest, "INVALID_JSON", ""},
		{"a member of the wrong type", `{"count":"two"}`, http.StatusBadRequest, "INVALID_FIELD", "count"},
		{"over the limit", `{"name":"` + strings.Repeat("a", 100) + `"}`, http.StatusRequestEntityTooLarge, "BODY_TOO_LARGE", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got widget
			e := newTestEngine(t, &bytes.Buffer{}, func(r gin.IRouter) {
				r.POST("/w", func(c *gin.Context) {
					if err := DecodeJSON(c, 64, &got); err != nil {
						_ = c.Error(err)
						return
					}
					c.Status(http.StatusOK)
				})
			})
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/w", strings.NewReader(tt.body)))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.code == "" {
				if got.Name != "a" || got.Count != 2 {
					t.Errorf("decoded %+v", got)
				}
				return
			}
			var body struct {
				Error   string `json:"error"`
				Details []struct {
					Field string `json:"field"`
				} `json:"details"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error != tt.code {
				t.Fatalf("body %s, want code %s", rec.Body, tt.code)
			}
			if tt.field != "" && (len(body.Details) != 1 || body.Details[0].Field != tt.field) {
				t.Errorf("details %+v, want one naming %s", body.Details, tt.field)
			}
		})
	}
}
