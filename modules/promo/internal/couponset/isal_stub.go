//go:build !(cgo && isal)

package couponset

import (
	"errors"
	"os"
)

// isalAvailable reports whether this binary links ISA-L; build with the tag
// isal (and the libisal-dev headers) to enable the in-process decoder.
const isalAvailable = false

func openISAL(*os.File) (*stream, error) {
	return nil, errors.New("isal: not compiled in (build with -tags isal)")
}
