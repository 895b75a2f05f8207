// Package web owns what the service shows a person in a browser: the shop, the order page, the
// admin page and the API docs page, with their scripts and styles, embedded in the binary so that
// `make run` needs no front-end build. pages/ holds the HTML documents, assets/ our own plain
// JavaScript and CSS (no inline script or style, so the pages work under a Content-Security-Policy
// of 'self' plus https://js.stripe.com), and vendor/ the API docs viewer, written by vendor.sh
// from npm at a pinned version. The HTTP adapter serves these files; nothing here runs on the
// server.
package web

import (
	"embed"
	"io/fs"
)

//go:embed pages assets vendor
var files embed.FS

// The three kinds of file, each a flat directory.
var (
	// Pages are the HTML documents (shop.html, order.html, admin.html, docs.html).
	Pages = sub("pages")
	// Assets are our scripts and styles, served under /assets/.
	Assets = sub("assets")
	// Vendor is the vendored API docs viewer, served under /vendor/.
	Vendor = sub("vendor")
)

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil { // only for an invalid literal above
		panic(err)
	}
	return f
}
