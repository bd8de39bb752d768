//go:build !purego

#include "textflag.h"

// BROADCAST declares a 16-byte constant of two equal 8-byte halves.
#define BROADCAST(name, v) \
	DATA name<>+0(SB)/8, v; \
	DATA name<>+8(SB)/8, v; \
	GLOBL name<>(SB), RODATA|NOPTR, $16

// Broadcast constants and the per-length shuffles of Parse.
BROADCAST(nl, $0x0a0a0a0a0a0a0a0a)
BROADCAST(caseBit, $0x2020202020202020)
// x + (0x80-'0') as signed is below -118 (0x8a) exactly for '0'-'9'.
BROADCAST(digitBias, $0x5050505050505050)
BROADCAST(digitLimit, $0x8a8a8a8a8a8a8a8a)
// (x|0x20) + (0x80-'a') as signed is below -102 (0x9a) exactly for 'a'-'z'.
BROADCAST(letterBias, $0x1f1f1f1f1f1f1f1f)
BROADCAST(letterLimit, $0x9a9a9a9a9a9a9a9a)
BROADCAST(zero, $0x3030303030303030)
// 'a' - '0' - 10: what a letter's digit loses beyond '0'.
BROADCAST(letterGap, $0x2727272727272727)
// Byte pairs d0*36 + d1, then word pairs w0*1296 + w1.
BROADCAST(mul36, $0x0124012401240124)
BROADCAST(mul1296, $0x0001051000010510)
// For a code of 8, 9 or 10 characters, bytes 4-15 receive its digits
// right-aligned (0x80 bytes become zero digits), so that dwords 1-3 are
// base-36 groups of four characters.
DATA shuf<>+0(SB)/8, $0x8080808080808080
DATA shuf<>+8(SB)/8, $0x0706050403020100
DATA shuf<>+16(SB)/8, $0x0080808080808080
DATA shuf<>+24(SB)/8, $0x0807060504030201
DATA shuf<>+32(SB)/8, $0x0100808080808080
DATA shuf<>+40(SB)/8, $0x0908070605040302
// Then, at 48, the masks of the bytes of a code of 8, 9 and 10 characters.
DATA shuf<>+48(SB)/4, $0x000000ff
DATA shuf<>+52(SB)/4, $0x000001ff
DATA shuf<>+56(SB)/4, $0x000003ff
GLOBL shuf<>(SB), RODATA|NOPTR, $60

// func Parse(base unsafe.Pointer, pos, last int, cur *Cursors) (newPos, lines, stop int)
//
// It packs the lines at base[pos:] that are 8 to 10 base-36 characters
// followed by "\n" or "\r\n" with AVX: one compare per 16 bytes finds the
// newlines of up to 63 bytes at once, so that the next line's start comes
// from a bit scan of that mask instead of a load and a compare at the line
// just found (the loop-carried chain is a scan and a shift, not a load);
// per line, two range compares validate every byte at once, and two
// multiply-adds turn the digits into base 36. It stops before the first
// other line (stop 1), after a value that fills its bucket (stop 2), or
// once pos passes last (stop 0), so that 16 bytes are always readable.
//
// Registers: SI base, DI pos, R8 last, R9 cur, R10 lines, R14 the newline
// bits from DI on, with one sentinel bit set just above the bits known.
TEXT ·Parse(SB), NOSPLIT, $0-56
	MOVQ base+0(FP), SI
	MOVQ pos+8(FP), DI
	MOVQ last+16(FP), R8
	MOVQ cur+24(FP), R9
	XORQ R10, R10
	VMOVDQU nl<>(SB), X8
	VMOVDQU caseBit<>(SB), X9
	VMOVDQU digitBias<>(SB), X10
	VMOVDQU digitLimit<>(SB), X11
	VMOVDQU letterBias<>(SB), X12
	VMOVDQU letterLimit<>(SB), X13
	VMOVDQU letterGap<>(SB), X14
	VMOVDQU zero<>(SB), X7
	VMOVDQU mul36<>(SB), X6
	VMOVDQU mul1296<>(SB), X5
	LEAQ shuf<>(SB), R13
	// No bits known yet: the sentinel alone.
	MOVQ $1, R14
	CMPQ DI, R8
	JGT  end

loop:
	// A line takes at most 12 bytes; fewer bits known means load more.
	BSRQ R14, AX
	CMPQ AX, $12
	JB   refill

scan:
	// CX = offset of the first newline, which must be 8, 9 or 10 (11 with
	// "\r"); the sentinel is at 12 or above, so it reads as a long line.
	BSFQ  R14, CX
	CMPL  CX, $12
	JAE   slow
	CMPL  CX, $8
	JB    slow
	VMOVDQU (SI)(DI*1), X0
	// R15 is the next line's start; the mask moves on to it.
	LEAQ  1(DI)(CX*1), R15
	INCL  CX
	SHRQ  CX, R14
	DECL  CX
	// A "\r" before the "\n" ends the code too.
	CMPB  -2(SI)(R15*1), $13
	JNE   lf
	DECL  CX

lf:
	LEAL  -8(CX), DX
	CMPL  DX, $2
	JA    slow
	// Every byte before it must be 0-9, A-Z or a-z.
	VPOR     X9, X0, X2
	VPADDB   X10, X0, X3
	VPCMPGTB X3, X11, X3
	VPADDB   X12, X2, X4
	VPCMPGTB X4, X13, X4
	VPOR     X3, X4, X1
	VPMOVMSKB X1, BX
	NOTL  BX
	TESTL 48(R13)(DX*4), BX
	JNZ   slow
	// Digits: (x|0x20) - '0', less letterGap for letters.
	VPSUBB X7, X2, X2
	VPAND  X14, X4, X4
	VPSUBB X4, X2, X2
	MOVQ   DX, R12
	SHLQ   $4, R12
	VPSHUFB (R13)(R12*1), X2, X2
	VPMADDUBSW X6, X2, X2
	VPMADDWD   X5, X2, X2
	// v = (D1*36^4 + D2)*36^4 + D3
	VPEXTRQ $1, X2, AX
	VPEXTRD $1, X2, BX
	MOVL    AX, R12
	SHRQ    $32, AX
	IMUL3Q  $1679616, BX, BX
	ADDQ    R12, BX
	IMUL3Q  $1679616, BX, BX
	ADDQ    AX, BX
	// Append v to the cursor of its length: ptr at 0, n at 24, lim at
	// 48, width at 72.
	MOVQ 0(R9)(DX*8), R12
	MOVQ 24(R9)(DX*8), R11
	MOVQ BX, (R12)(R11*1)
	ADDQ 72(R9)(DX*8), R11
	MOVQ R11, 24(R9)(DX*8)
	INCQ R10
	MOVQ R15, DI
	CMPQ R11, 48(R9)(DX*8)
	JGT  full
	CMPQ DI, R8
	JLE  loop

end:
	MOVQ $0, AX // StopEnd

exit:
	MOVQ DI, newPos+32(FP)
	MOVQ R10, lines+40(FP)
	MOVQ AX, stop+48(FP)
	VZEROUPPER
	RET

slow:
	MOVQ $1, AX // StopSlow
	JMP  exit

full:
	MOVQ $2, AX // StopFull
	JMP  exit

refill:
	// The newlines of the 64 bytes at DI when they are readable (DI+48 <=
	// last), bit 63 then the sentinel; else of the 16 bytes at DI, with
	// the sentinel at bit 16.
	LEAQ 48(DI), AX
	CMPQ AX, R8
	JGT  short
	VPCMPEQB (SI)(DI*1), X8, X1
	VPMOVMSKB X1, R14
	VPCMPEQB 16(SI)(DI*1), X8, X1
	VPMOVMSKB X1, AX
	SHLQ $16, AX
	ORQ  AX, R14
	VPCMPEQB 32(SI)(DI*1), X8, X1
	VPMOVMSKB X1, AX
	SHLQ $32, AX
	ORQ  AX, R14
	VPCMPEQB 48(SI)(DI*1), X8, X1
	VPMOVMSKB X1, AX
	SHLQ $48, AX
	ORQ  AX, R14
	BTSQ $63, R14
	JMP  scan

short:
	VPCMPEQB (SI)(DI*1), X8, X1
	VPMOVMSKB X1, R14
	BTSQ $16, R14
	JMP  scan
