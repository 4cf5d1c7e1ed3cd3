/*
 * hello.h: what the sample TA and its UA agree on: the TA's component
 * identifier ['TEEP-Device', 'hello', 'ta'] (its UA is
 * ['TEEP-Device', 'hello-ua', 'ua'], its personalization data
 * ['TEEP-Device', 'hello', 'pd']), encoded as CBOR here because the UA
 * links nothing.
 */
#ifndef HELLO_H
#define HELLO_H

#define HELLO_TA_ID_TEXT "TEEP-Device/hello/ta"
#define HELLO_UA_ID_TEXT "TEEP-Device/hello-ua/ua"
#define HELLO_PD_ID_TEXT "TEEP-Device/hello/pd"

/* [h'TEEP-Device', h'hello', h'ta'] */
static const unsigned char hello_ta_id[] = {
    0x83, 0x4b, 'T',  'E', 'E', 'P', '-', 'D', 'e',  'v', 'i',
    'c',  'e',  0x45, 'h', 'e', 'l', 'l', 'o', 0x42, 't', 'a'};

#endif
