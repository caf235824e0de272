# Independent reimplementation of Canopy's SRP profile (Python hashlib + pow, nothing shared with the TypeScript)
# that produced the known-answer vector in canopy-profile.test.ts. Run: python3 canopy_vector.py [iterations]
import hashlib

N = int("""FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08
   8A67CC74 020BBEA6 3B139B22 514A0879 8E3404DD EF9519B3 CD3A431B
   302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6 F44C42E9
   A637ED6B 0BFF5CB6 F406B7ED EE386BFB 5A899FA5 AE9F2411 7C4B1FE6
   49286651 ECE45B3D C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8
   FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB 9ED52907 7096966D
   670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B E39E772C
   180E8603 9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718
   3995497C EA956AE5 15D22618 98FA0510 15728E5A 8AAAC42D AD33170D
   04507A33 A85521AB DF1CBA64 ECFB8504 58DBEF0A 8AEA7157 5D060C7D
   B3970F85 A6E1E4C7 ABF5AE8C DB0933D7 1E8C94E0 4A25619D CEE3D226
   1AD2EE6B F12FFA06 D98A0864 D8760273 3EC86A64 521F2B18 177B200C
   BBE11757 7A615D6C 770988C0 BAD946E2 08E24FA0 74E5AB31 43DB5BFC
   E0FD108E 4B82D120 A93AD2CA FFFFFFFF FFFFFFFF""".replace(" ", "").replace("\n", ""), 16)
g = 5
L = 384
assert N.bit_length() == 3072
H = lambda *p: hashlib.sha256(b"".join(p)).digest()
i2b = lambda n, l: n.to_bytes(l, "big")
b2i = lambda b: int.from_bytes(b, "big")
PAD = lambda n: i2b(n, L)

email = "Alice.Example@Canopy.Test"
I = email.lower()
password = "correct horse battery staple ✓"
s = bytes(range(0x10, 0x30))           # 32 bytes
a = b2i(bytes(range(0x40, 0x60)))
b = b2i(bytes(range(0x80, 0xa0)))

import sys
iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 600000
Pp = hashlib.pbkdf2_hmac("sha256", password.encode(), s, iterations, 32).hex()
x = b2i(H(s, H(f"{I}:{Pp}".encode())))
v = pow(g, x, N)
k = b2i(H(i2b(N, 384), PAD(g)))
A = pow(g, a, N)
B = (k * v + pow(g, b, N)) % N
u = b2i(H(PAD(A), PAD(B)))
Sc = pow((B - k * pow(g, x, N)) % N, a + u * x, N)
Ss = pow(A * pow(v, u, N) % N, b, N)
assert Sc == Ss
K = H(PAD(Sc))
hx = bytes(p ^ q for p, q in zip(H(i2b(N, 384)), H(bytes([g]))))
M1 = H(hx, H(I.encode()), s, PAD(A), PAD(B), K)
M2 = H(PAD(A), M1, K)
for name, val in [("iterations", iterations), ("Pprime", Pp), ("x", "%064x" % x), ("k", "%064x" % k), ("v", PAD(v).hex()), ("A", PAD(A).hex()), ("B", PAD(B).hex()),
                  ("u", "%064x" % u), ("S", PAD(Sc).hex()), ("K", K.hex()), ("M1", M1.hex()), ("M2", M2.hex())]:
    print(f"{name}: {val}")
