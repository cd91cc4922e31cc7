//go:build tamago

#include "textflag.h"

// func udf()
TEXT ·udf(SB),NOSPLIT,$0-0
	WORD	$0x00000000	// UDF #0
	RET
