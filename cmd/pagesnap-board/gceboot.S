/*
 * gceboot.S: pagesnap's GCE boot sector (make image BOARD=gcp). SeaBIOS
 * (GCE's legacy boot) loads it at 0x7c00 in real mode with the boot
 * drive in DL. It reads the kernel, flattened by pagesnap-board (the ELF's
 * PT_LOAD segments from the lowest physical address, gaps zeroed), from
 * the disk into a low buffer with INT 13h AH=42h (extended read) and has
 * the BIOS copy each buffer above 1 MiB with INT 15h AH=87h (move
 * extended memory block); it then masks the legacy PICs, enables A20, enters 32-bit protected
 * mode with flat 4 GiB code and data segments (Intel SDM Vol. 3A 10.9.1,
 * "Switching to Protected Mode"), zeroes the kernel's .bss and jumps to
 * the PVH entry with paging off: the state tamago's amd64 cpuinit
 * expects (it builds its own page tables and enters long mode).
 *
 * pagesnap-board patches the parameters at PARAMS (0x1a0) and the
 * partition table at 0x1be. Assembled by GNU as (--32) and linked at
 * 0x7c00 as a flat binary: the Go assembler cannot emit 16-bit code.
 */
	.code16
	.text
	.globl	_start
_start:
	cli
	ljmp	$0, $real			/* CS:IP = 0:7c00+ */
real:
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	$0x7c00, %sp
	sti
	movb	%dl, drive
	movw	$msg_load, %si
	call	puts

read_loop:
	movl	kern_sectors, %eax
	testl	%eax, %eax
	jz	loaded
	cmpl	$CHUNK, %eax
	jbe	1f
	movl	$CHUNK, %eax
1:	movw	%ax, dap_count
	movl	kern_lba, %eax
	movl	%eax, dap_lba
	movw	$dap, %si
	movb	drive, %dl
	movb	$0x42, %ah			/* INT 13h AH=42h: extended read */
	int	$0x13
	jc	fail
	/* the copy's destination: the descriptor's base 0-23 and 24-31 */
	movl	load_addr, %eax
	movw	%ax, gdt_dst+2
	shrl	$16, %eax
	movb	%al, gdt_dst+4
	movb	%ah, gdt_dst+7
	movw	dap_count, %cx
	shlw	$8, %cx				/* words: 256 per sector */
	movw	$gdt_move, %si			/* ES:SI = the move's GDT */
	movb	$0x87, %ah			/* INT 15h AH=87h: move block */
	int	$0x15
	jc	fail
	movzwl	dap_count, %eax
	addl	%eax, kern_lba
	subl	%eax, kern_sectors
	shll	$9, %eax
	addl	%eax, load_addr
	jmp	read_loop

loaded:
	movw	$msg_jump, %si
	call	puts
	cli
	movb	$0xff, %al			/* mask every 8259A PIC line: SeaBIOS */
	outb	%al, $0x21			/* left the timer on vector 8, and */
	outb	%al, $0xa1			/* tamago's STI comes before its IDT */
	inb	$0x92, %al			/* fast A20 (system control port A) */
	orb	$2, %al
	andb	$0xfe, %al
	outb	%al, $0x92
	lgdtl	gdtr
	movl	%cr0, %eax
	orl	$1, %eax			/* CR0.PE */
	movl	%eax, %cr0
	ljmpl	$0x08, $pm32

fail:
	movw	$msg_fail, %si
	call	puts
halt:
	hlt
	jmp	halt

/* puts writes the NUL-terminated string at SI to COM1 (0x3f8; SeaBIOS
 * has initialized it: GCE's serial console). */
puts:
	movw	$0x3f8, %dx
2:	lodsb
	testb	%al, %al
	jz	3f
	outb	%al, %dx
	jmp	2b
3:	ret

	.code32
pm32:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	%ax, %fs
	movw	%ax, %gs
	movl	$0x7c00, %esp
	movl	bss_start, %edi			/* zero the .bss the disk omits */
	movl	bss_len, %ecx
	xorl	%eax, %eax
	cld
	rep stosb
	jmp	*entry

	.set	CHUNK, 64			/* sectors per read: 32 KiB */
	.set	BUF_SEG, 0x1000			/* the low buffer at 0x10000 */

msg_load:	.asciz	"gceboot: load\r\n"
msg_jump:	.asciz	"gceboot: jump\r\n"
msg_fail:	.asciz	"gceboot: disk error\r\n"
drive:	.byte	0

	.p2align 2
dap:	.byte	16, 0				/* INT 13h AH=42h disk address packet */
dap_count:	.word	0
	.word	0, BUF_SEG			/* buffer offset, segment */
dap_lba:	.long	0, 0

/* The GDT INT 15h AH=87h takes: two null entries, source, destination,
 * and two the BIOS fills. */
	.p2align 3
gdt_move:
	.quad	0, 0
	.word	0xffff, 0x0000			/* source: 0x10000, 64 KiB, data */
	.byte	0x01, 0x93, 0x00, 0x00
gdt_dst:
	.word	0xffff, 0x0000			/* destination: patched */
	.byte	0x00, 0x93, 0x00, 0x00
	.quad	0, 0

/* Protected mode: null, flat 32-bit code (0x08), flat data (0x10). */
gdt:
	.quad	0
	.quad	0x00cf9a000000ffff
	.quad	0x00cf92000000ffff
gdtr:
	.word	3*8-1
	.long	gdt

	.org	0x1a0
PARAMS:
kern_lba:	.long	0	/* first sector of the flat kernel */
kern_sectors:	.long	0	/* its length in sectors */
load_addr:	.long	0	/* its physical address */
entry:		.long	0	/* the PVH entry (ELF e_entry) */
bss_start:	.long	0
bss_len:	.long	0
	.org	0x1fe
	.byte	0x55, 0xaa
