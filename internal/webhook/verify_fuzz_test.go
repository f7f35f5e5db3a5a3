package webhook

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The seed corpora below run in plain `go test`; `go test -fuzz=FuzzStripeHeader` explores more.

func FuzzStripeHeader(f *testing.F) {
	body := []byte(`{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}`)
	ts := now.Add(-time.Minute)
	valid := SignStripe(secretOld, ts, body)
	for _, s := range []string{
		valid,
		valid + ",v1=" + strings.Repeat("0", 64) + ",v0=" + strings.Repeat("f", 64),
		"", ",", ",,,", "=", "t=", "v1=", "t=,v1=", "t=1,t=2,v1=00", "t=1", "v1=00",
		"t=-1,v1=00", "t=99999999999999999999,v1=00", "t=9223372036854775807,v1=00",
		"t=-9223372036854775808,v1=00", " t = 1 , v1 = 0 ", "t==1,v1==", "\x00\xff,t=\u00e9",
		"garbage", strings.Repeat("v1=ab,", 5000), strings.Repeat("t", 1<<16),
	} {
		f.Add(s)
	}
	v := StripeVerifier{Secrets: []string{secretOld, secretNew}}
	f.Fuzz(func(t *testing.T, header string) {
		if sh, err := parseStripeHeader(header); err == nil && len(sh.v1) == 0 {
			t.Fatalf("parsed %q without a v1", header)
		}
		// Also split as the adapter would, to exercise the joining lookup.
		h := http.Header{"stripe-signature": strings.Split(header, ",")}
		d, err := v.Verify(h, body, now)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		// Hex is case-insensitive (as in stripe-go), so upper-case digits may match too.
		if !strings.Contains(strings.ToLower(header), strings.TrimPrefix(v1Of(valid), "v1=")) || d.ID != "evt_1" {
			t.Fatalf("accepted %q without the valid signature (Delivery %+v)", header, d)
		}
	})
}

func FuzzStandardHeader(f *testing.F) {
	body := []byte(`{"type":"payment.succeeded"}`)
	ts := now.Add(-time.Minute)
	h, err := SignStandard(secretOld, "msg_1", ts, body)
	if err != nil {
		f.Fatal(err)
	}
	id, tsRaw, valid := h.Get(StandardIDHeader), h.Get(StandardTimestampHeader), h.Get(StandardSignatureHeader)
	seeds := [][3]string{
		{id, tsRaw, valid},
		{id, tsRaw, "v1a,AAAA " + valid + " v2,x"},
		{"", "", ""}, {id, tsRaw, ""}, {id, "", valid}, {"", tsRaw, valid},
		{id, tsRaw, "v1"}, {id, tsRaw, "v1,"}, {id, tsRaw, ","}, {id, tsRaw, "   "},
		{id, "-1", valid}, {id, "99999999999999999999", valid}, {id, "1e9", valid},
		{"garbage", "garbage", "garbage"}, {"\x00", "\xff", "v1,\x00\xff"},
		{id, tsRaw, strings.Repeat("v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32))+" ", 300)},
		{strings.Repeat("m", 1<<16), tsRaw, valid},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	v := StandardVerifier{Secrets: []string{secretOld, secretNew}}
	f.Fuzz(func(t *testing.T, id, ts, sig string) {
		if sigs, err := parseStandardSignatures(sig); err == nil && len(sigs) == 0 {
			t.Fatalf("parsed %q without a v1", sig)
		}
		h := http.Header{
			"webhook-id":        {id},
			"webhook-timestamp": {ts},
			"webhook-signature": strings.Split(sig, ","),
		}
		d, err := v.Verify(h, body, now)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if !strings.Contains(sig, strings.TrimPrefix(valid, "v1,")) || d.ID != strings.TrimSpace(id) {
			t.Fatalf("accepted (%q, %q, %q) without the valid signature (Delivery %+v)", id, ts, sig, d)
		}
	})
}
