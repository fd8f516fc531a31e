package runfolder

import (
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// Bounds on what one page of a Parquet file may ask the decoder to
// allocate. The decoder trusts a page header's sizes and value counts and
// allocates them before reading, so a damaged or hostile file could ask
// for gigabytes with a few bytes. Writers keep pages far smaller (parquet-go
// buffers 256 KiB, Arrow 1 MiB and at most 20,000 rows by default).
const (
	maxPageBytes  = 256 << 20 // compressed or uncompressed
	maxPageValues = 1 << 24
)

// checkPages walks the page headers of every column chunk of a file of
// size bytes whose footer md has been decoded, and refuses a chunk outside
// the file, a page that runs past its chunk, or a page beyond the bounds
// above. It reads only the headers, a few hundred bytes per page.
func checkPages(f io.ReaderAt, size int64, md *format.FileMetaData) error {
	for g, rg := range md.RowGroups {
		for c, col := range rg.Columns {
			m := &col.MetaData
			start := m.DataPageOffset
			if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < start {
				start = m.DictionaryPageOffset
			}
			end := start + m.TotalCompressedSize
			if start < 4 || m.TotalCompressedSize < 0 || end > size-8 || end < start {
				return fmt.Errorf("row group %d, column %d: its pages (bytes %d to %d) are not inside the file of %d bytes", g, c, start, end, size)
			}
			for pos := start; pos < end; {
				h, n, err := readPageHeader(f, pos, end)
				if err != nil {
					return fmt.Errorf("row group %d, column %d, page header at byte %d: %w", g, c, pos, err)
				}
				if err := checkPageHeader(h, end-pos-n); err != nil {
					return fmt.Errorf("row group %d, column %d, page at byte %d: %w", g, c, pos, err)
				}
				pos += n + int64(h.CompressedPageSize)
			}
		}
	}
	return nil
}

// readPageHeader decodes the page header at pos, which must end before
// end, and returns it with its length in bytes. Headers are small; the
// window grows only if one is not.
func readPageHeader(f io.ReaderAt, pos, end int64) (*format.PageHeader, int64, error) {
	var p thrift.CompactProtocol
	for window := int64(512); ; window *= 16 {
		w := min(window, end-pos)
		buf := make([]byte, w)
		if _, err := f.ReadAt(buf, pos); err != nil && !(errors.Is(err, io.EOF) && w == end-pos) {
			return nil, 0, err
		}
		r := p.NewReaderFromBytes(buf)
		h := new(format.PageHeader)
		err := thrift.NewDecoder(r).Decode(h)
		if err == nil {
			return h, int64(r.BytesRead()), nil
		}
		if w == end-pos || window >= 1<<20 {
			return nil, 0, fmt.Errorf("not a readable page header: %w", err)
		}
	}
}

func checkPageHeader(h *format.PageHeader, left int64) error {
	switch {
	case h.CompressedPageSize < 0 || int64(h.CompressedPageSize) > left:
		return fmt.Errorf("%d bytes claimed where %d are left in the column chunk", h.CompressedPageSize, left)
	case h.CompressedPageSize > maxPageBytes || h.UncompressedPageSize < 0 || h.UncompressedPageSize > maxPageBytes:
		return fmt.Errorf("a page of %d bytes (%d compressed); at most %d are accepted", h.UncompressedPageSize, h.CompressedPageSize, maxPageBytes)
	}
	var n int32
	switch {
	case h.DataPageHeader.Valid:
		n = h.DataPageHeader.V.NumValues
	case h.DataPageHeaderV2.Valid:
		n = max(h.DataPageHeaderV2.V.NumValues, h.DataPageHeaderV2.V.NumRows)
	case h.DictionaryPageHeader.Valid:
		n = h.DictionaryPageHeader.V.NumValues
	}
	if n < 0 || n > maxPageValues {
		return fmt.Errorf("a page of %d values; at most %d are accepted", n, maxPageValues)
	}
	return nil
}
