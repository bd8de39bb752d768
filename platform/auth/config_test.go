package auth_test

import (
	"strings"
	"testing"

	"minikart/platform/auth"
	"minikart/platform/config"
)

func TestKeysFromTheEnvironment(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		ids  map[string]string // key → id it authenticates as
	}{
		{"MINIKART_AUTH_API_KEYS, id:key entries", map[string]string{"MINIKART_AUTH_API_KEYS": "shop-web:s3cret,pos:other"},
			map[string]string{"s3cret": "shop-web", "other": "pos"}},
		{"the API_KEY alias", map[string]string{"API_KEY": "shop-web:s3cret"}, map[string]string{"s3cret": "shop-web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := config.DecodeSection[auth.Config](config.Production, "auth", nil)
			if err != nil {
				t.Fatal(err)
			}
			a, err := auth.New(c)
			if err != nil {
				t.Fatal(err)
			}
			for key, id := range tt.ids {
				if p, ok := a.Authenticate(key); !ok || p.ID != id {
					t.Errorf("%s: %+v %v, want id %s", key, p, ok, id)
				}
			}
		})
	}
}

func TestProductionWithoutKeysIsRefused(t *testing.T) {
	_, err := config.DecodeSection[auth.Config](config.Production, "auth", nil)
	if err == nil || !strings.Contains(err.Error(), "auth.api_keys: at least one api key is required") {
		t.Errorf("err = %v", err)
	}
}
