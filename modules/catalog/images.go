package catalog

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"minikart/platform/apperr"
)

// builtinFS holds the pictures of the demo products, drawn by
// `go run ./modules/catalog/internal/imagegen`.
//
//go:embed images/*.jpg
var builtinFS embed.FS

// ImageSizes are the sizes the contract's image object names, in its order.
var ImageSizes = [...]string{"thumbnail", "mobile", "tablet", "desktop"}

// storedPrefix marks an image reference to a picture an import stored.
const storedPrefix = "stored:"

// storedImageName is the file name of a stored picture: the SHA-256 of its
// bytes and the extension of its type.
var storedImageName = regexp.MustCompile(`^[0-9a-f]{64}\.(jpg|png|webp|gif)$`)

// imageTypes are the picture types accepted, from an import file or an
// upload, with the extension of their stored name.
var imageTypes = map[string]string{"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}

// pictureOf is the one check of a picture's bytes, for the files an import
// names and an upload alike: at most limit bytes, and a type read from the
// bytes themselves (net/http's sniffing), never from a file name or a
// Content-Type a client chose. The picture is named by its content.
func pictureOf(body []byte, limit int64) (imageFile, error) {
	switch {
	case len(body) == 0:
		return imageFile{}, ErrImageMissing
	case int64(len(body)) > limit:
		return imageFile{}, apperr.ErrBodyTooLarge.Withf("the picture is larger than %d bytes", limit)
	}
	ct := http.DetectContentType(body)
	ext, ok := imageTypes[ct]
	if !ok {
		return imageFile{}, ErrUnsupportedImageType.Withf("the picture is %s, want a JPEG, PNG, WebP or GIF image", strings.TrimSuffix(ct, "; charset=utf-8"))
	}
	sum := sha256.Sum256(body)
	return imageFile{name: hex.EncodeToString(sum[:]) + "." + ext, contentType: ct, body: body}, nil
}

// storedMaxAge lets caches keep a stored picture for a year: its name is
// its content's hash, so it never changes.
const storedMaxAge = 365 * 24 * time.Hour

// builtinImageName is the file of a built-in picture.
func builtinImageName(slug, size string) string {
	return "image-" + slug + "-" + size + ".jpg"
}

// imageAsset is one servable picture with its validator.
type imageAsset struct {
	body        []byte
	contentType string
	etag        string
}

// builtinImages maps file names to the embedded pictures. Reading embedded
// files does no I/O that can hang.
var builtinImages = sync.OnceValue(func() map[string]imageAsset {
	out := map[string]imageAsset{}
	names, _ := fs.Glob(builtinFS, "images/*.jpg")
	for _, n := range names {
		b, err := builtinFS.ReadFile(n)
		if err != nil {
			continue
		}
		sum := sha256.Sum256(b)
		out[strings.TrimPrefix(n, "images/")] = imageAsset{
			body: b, contentType: "image/jpeg", etag: `"` + hex.EncodeToString(sum[:16]) + `"`,
		}
	}
	return out
})

// hasBuiltinImages reports whether every size of slug is built in.
func hasBuiltinImages(slug string) bool {
	imgs := builtinImages()
	for _, size := range ImageSizes {
		if _, ok := imgs[builtinImageName(slug, size)]; !ok {
			return false
		}
	}
	return true
}

// builtinMaxAge lets browsers and CDNs keep a built-in picture for a day:
// its name stays when it is redrawn, so it must expire; the ETag makes the
// revalidation cheap.
const builtinMaxAge = 24 * time.Hour

// serveImage answers a picture with its validators and the headers that
// let pages on any origin show it: images are public, so any origin may
// embed or read them, unless the server's CORS answer already named the
// caller's origin.
func serveImage(c *gin.Context, a imageAsset, maxAge time.Duration, immutable bool) {
	h := c.Writer.Header()
	cc := "public, max-age=" + strconv.Itoa(int(maxAge.Seconds()))
	if immutable {
		cc += ", immutable"
	}
	h.Set("Cache-Control", cc)
	h.Set("ETag", a.etag)
	h.Set("Content-Type", a.contentType)
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if h.Get("Access-Control-Allow-Origin") == "" {
		h.Set("Access-Control-Allow-Origin", "*")
	}
	// ServeContent answers If-None-Match with 304. The pictures are small, so
	// ranges are not offered: its range errors would not be JSON.
	c.Request.Header.Del("Range")
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(a.body))
}
