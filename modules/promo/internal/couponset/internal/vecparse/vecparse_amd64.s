//go:build !purego

#include "textflag.h"

// Broadcast constants and the per-length shuffles of parseFast.
DATA nl<>+0(SB)/8, $0x0a0a0a0a0a0a0a0a
DATA nl<>+8(SB)/8, $0x0a0a0a0a0a0a0a0a
GLOBL nl<>(SB), RODATA|NOPTR, $16
DATA caseBit<>+0(SB)/8, $0x2020202020202020
DATA caseBit<>+8(SB)/8, $0x2020202020202020
GLOBL caseBit<>(SB), RODATA|NOPTR, $16
// x + (0x80-'0') as signed is below -118 (0x8a) exactly for '0'-'9'.
DATA digitBias<>+0(SB)/8, $0x5050505050505050
DATA digitBias<>+8(SB)/8, $0x5050505050505050
GLOBL digitBias<>(SB), RODATA|NOPTR, $16
DATA digitLimit<>+0(SB)/8, $0x8a8a8a8a8a8a8a8a
DATA digitLimit<>+8(SB)/8, $0x8a8a8a8a8a8a8a8a
GLOBL digitLimit<>(SB), RODATA|NOPTR, $16
// (x|0x20) + (0x80-'a') as signed is below -102 (0x9a) exactly for 'a'-'z'.
DATA letterBias<>+0(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA letterBias<>+8(SB)/8, $0x1f1f1f1f1f1f1f1f
GLOBL letterBias<>(SB), RODATA|NOPTR, $16
DATA letterLimit<>+0(SB)/8, $0x9a9a9a9a9a9a9a9a
DATA letterLimit<>+8(SB)/8, $0x9a9a9a9a9a9a9a9a
GLOBL letterLimit<>(SB), RODATA|NOPTR, $16
DATA zero<>+0(SB)/8, $0x3030303030303030
DATA zero<>+8(SB)/8, $0x3030303030303030
GLOBL zero<>(SB), RODATA|NOPTR, $16
// 'a' - '0' - 10: what a letter's digit loses beyond '0'.
DATA letterGap<>+0(SB)/8, $0x2727272727272727
DATA letterGap<>+8(SB)/8, $0x2727272727272727
GLOBL letterGap<>(SB), RODATA|NOPTR, $16
// Byte pairs d0*36 + d1, then word pairs w0*1296 + w1.
DATA mul36<>+0(SB)/8, $0x0124012401240124
DATA mul36<>+8(SB)/8, $0x0124012401240124
GLOBL mul36<>(SB), RODATA|NOPTR, $16
DATA mul1296<>+0(SB)/8, $0x0001051000010510
DATA mul1296<>+8(SB)/8, $0x0001051000010510
GLOBL mul1296<>(SB), RODATA|NOPTR, $16
// For a code of 8, 9 or 10 characters, bytes 4-15 receive its digits
// right-aligned (0x80 bytes become zero digits), so that dwords 1-3 are
// base-36 groups of four characters.
DATA shuf<>+0(SB)/8, $0x8080808080808080
DATA shuf<>+8(SB)/8, $0x0706050403020100
DATA shuf<>+16(SB)/8, $0x0080808080808080
DATA shuf<>+24(SB)/8, $0x0807060504030201
DATA shuf<>+32(SB)/8, $0x0100808080808080
DATA shuf<>+40(SB)/8, $0x0908070605040302
GLOBL shuf<>(SB), RODATA|NOPTR, $48

// func Parse(base unsafe.Pointer, pos, last int, cur *Cursors) (newPos, lines, stop int)
//
// It packs the lines at base[pos:] that are 8 to 10 base-36 characters
// followed by "\n" or "\r\n", 16 bytes at a time with AVX: one compare
// finds the line end, two range compares validate every byte at once, and
// two multiply-adds turn the digits into base 36. It stops before the first
// other line (stop 1), after a value that fills its bucket (stop 2), or
// once pos passes last (stop 0), so that 16 bytes are always readable.
//
// Registers: SI base, DI pos, R8 last, R9 cur, R10 lines.
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
	CMPQ DI, R8
	JGT  end

loop:
	VMOVDQU (SI)(DI*1), X0
	// CX = offset of the first newline, which must be 8, 9 or 10.
	VPCMPEQB X8, X0, X1
	VPMOVMSKB X1, AX
	TESTL AX, AX
	JZ    slow
	BSFL  AX, CX
	CMPL  CX, $8
	JB    slow
	// A "\r" before it ends the code too; R15 is the terminator's length.
	MOVL  $1, R15
	LEAQ  (DI)(CX*1), R12
	CMPB  -1(SI)(R12*1), $13
	JNE   lf
	DECL  CX
	MOVL  $2, R15

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
	MOVL  $1, R11
	SHLL  CX, R11
	DECL  R11
	TESTL R11, BX
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
	LEAQ (DI)(CX*1), DI
	ADDQ R15, DI
	CMPQ R11, 48(R9)(DX*8)
	JGT  full
	CMPQ DI, R8
	JLE  loop

end:
	MOVQ DI, newPos+32(FP)
	MOVQ R10, lines+40(FP)
	MOVQ $0, stop+48(FP)
	VZEROUPPER
	RET

slow:
	MOVQ DI, newPos+32(FP)
	MOVQ R10, lines+40(FP)
	MOVQ $1, stop+48(FP)
	VZEROUPPER
	RET

full:
	MOVQ DI, newPos+32(FP)
	MOVQ R10, lines+40(FP)
	MOVQ $2, stop+48(FP)
	VZEROUPPER
	RET
