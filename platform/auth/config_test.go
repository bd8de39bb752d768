package auth_test

import (
	"errors"
	"strings"
	"testing"

	"go.uber.org/fx"

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
			// The graph, as the server builds it: the alias is declared by
			// the auth module.
			src, err := config.Load(config.Options{Env: config.Production})
			if err != nil {
				t.Fatal(err)
			}
			var a *auth.Authenticator
			if err := fx.New(fx.NopLogger, fx.Supply(src), config.Module, auth.Module, fx.Populate(&a)).Err(); err != nil {
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

func TestProductionWarnsOfTheDemoKey(t *testing.T) {
	tests := []struct {
		env  string
		keys []string
		warn bool
	}{
		{config.Production, []string{"shop-web:apitest"}, true},
		{config.Production, []string{"s3cret", " apitest "}, true},
		{config.Production, []string{"shop-web:s3cret"}, false},
		{config.Development, []string{"demo:apitest"}, false},
		{config.Test, []string{"apitest"}, false},
	}
	for _, tt := range tests {
		err := auth.Config{APIKeys: tt.keys}.Check(tt.env)
		var fe *config.FieldError
		if got := errors.As(err, &fe) && fe.Warning && fe.Key == "api_keys" && strings.Contains(fe.Msg, `demo key "apitest"`); got != tt.warn || (!tt.warn && err != nil) {
			t.Errorf("%s %v: %v, want a warning: %t", tt.env, tt.keys, err, tt.warn)
		}
	}
}
