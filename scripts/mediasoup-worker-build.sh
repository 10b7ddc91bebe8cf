#!/bin/bash
# Builds mediasoup 3.19.3's C++ worker (the newest mediasoup 3.x that allows Node 20; later ones need
# Node >= 22) for Parley's mediasoup media engine, offline, using only: the npm registry (the package's
# own sources), Debian 12's apt (every C/C++ dependency) and pip (meson >= 1.1; Debian 12 has 1.0.1).
#
# From the shared recipe (mediasoup-worker.md), which:
# - swaps mediasoup's meson subprojects (wrap files that download from GitHub) for stub subprojects
#   pointing at Debian's libraries;
# - ports SrtpSession to Debian's libsrtp 2.5 (patch 4: mediasoup bundles a libsrtp 3 fork);
# - fixes a DTLS crash with Debian's kTLS-enabled OpenSSL (patch 4b);
# - turns liburing off (Debian has 2.3; mediasoup needs >= 2.5).
# Parley adds patches 5-7 (step 4c), without which mediasoup cannot carry a SIP leg; the gateway checks
# a worker has them before using it (gateway/src/media/mediasoup/probe.ts), so a stock prebuilt worker
# is refused rather than failing calls:
# - 5: a comedia PlainTransport may be given the peer's SDP address with connect(), again after a
#      re-INVITE: media goes there until the peer's first packet latches it to its real source
#      (symmetric RTP, RFC 4961), and a latched source silent for 1 s may be replaced (NAT rebinding).
#      Stock comedia never sends before the peer spoke, so a peer that only echoes never hears anything.
# - 6: RTP whose SSRC nobody signalled goes to a comedia PlainTransport's only producer (a SIP phone
#      never signals its SSRC, and may change it, RFC 3550 §8.2). Stock mediasoup drops it.
# - 7: consumers forward complementary codecs (telephone-event, comfort noise), not only media ones,
#      so RFC 4733 DTMF crosses the worker.
#
# Usage (as root): WORK=<build dir> PREFIX=<where the binary goes> JOBS=2 bash mediasoup-worker-build.sh
# scripts/setup.sh runs it when its cache (keyed by version and by this script's content) has no worker,
# and installs the binary where mediasoup looks for it (node_modules/mediasoup/worker/out/Release/).
# About 11 minutes on 2 cores, most of it compiling; progress is ninja's [n/N] lines.
set -euo pipefail
MS_VER=3.19.3
WORK=${WORK:-$PWD/.mediasoup-build}
PREFIX=${PREFIX:-$WORK/out}
JOBS=${JOBS:-2}
mkdir -p "$WORK" "$PREFIX"; cd "$WORK"

# 1. Debian packages (the -dev packages pull in the runtime libs the binary links against).
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends g++ make pkg-config ninja-build python3 \
  libuv1-dev libssl-dev libsrtp2-dev libusrsctp-dev libabsl-dev libflatbuffers-dev flatbuffers-compiler
# 2. meson >= 1.1.0 from pip, in a venv (tested with meson 1.12.1).
if [ ! -x venv/bin/meson ]; then
  python3 -m venv venv || { apt-get install -y --no-install-recommends python3-venv && python3 -m venv venv; }
  venv/bin/pip install -q --retries 0 'meson>=1.1.0'
fi
MESON="$WORK/venv/bin/meson"

# 3. Source from the npm registry.
rm -rf "mediasoup-$MS_VER" && mkdir "mediasoup-$MS_VER"
npm pack "mediasoup@$MS_VER" --silent >/dev/null
tar xzf "mediasoup-$MS_VER.tgz" -C "mediasoup-$MS_VER" --strip-components=1
cd "mediasoup-$MS_VER"

# 4. Port from libsrtp 3 (mediasoup's bundled fork) to Debian's libsrtp 2.5.
patch -p1 <<'PATCH'
diff --git a/worker/include/RTC/SrtpSession.hpp b/worker/include/RTC/SrtpSession.hpp
index b50f6d9..e5eeb22 100644
--- a/worker/include/RTC/SrtpSession.hpp
+++ b/worker/include/RTC/SrtpSession.hpp
@@ -44,7 +44,7 @@ namespace RTC
 		bool DecryptSrtcp(uint8_t* data, size_t* len);
 		void RemoveStream(uint32_t ssrc)
 		{
-			srtp_stream_remove(this->session, uint32_t{ htonl(ssrc) });
+			srtp_remove_stream(this->session, uint32_t{ htonl(ssrc) }); // libsrtp2 name (v3: srtp_stream_remove)
 		}
 
 	private:
diff --git a/worker/src/DepLibSRTP.cpp b/worker/src/DepLibSRTP.cpp
index 1c9d66b..21705b7 100644
--- a/worker/src/DepLibSRTP.cpp
+++ b/worker/src/DepLibSRTP.cpp
@@ -45,9 +45,7 @@ std::unordered_map<srtp_err_status_t, std::string> DepLibSRTP::mapErrorCodeStrin
 	{ srtp_err_status_pfkey_err,     "error while using pfkey" },
 	{ srtp_err_status_bad_mki,       "error MKI present in packet is invalid" },
 	{ srtp_err_status_pkt_idx_old,   "packet index is too old to consider" },
-	{ srtp_err_status_pkt_idx_adv,   "packet index advanced, reset needed" },
-	{ srtp_err_status_buffer_small,  "out buffer is too small" },
-	{ srtp_err_status_cryptex_err,   "unsupported cryptex operation" }
+	{ srtp_err_status_pkt_idx_adv,   "packet index advanced, reset needed" }
 };
 // clang-format on
 
diff --git a/worker/src/RTC/SrtpSession.cpp b/worker/src/RTC/SrtpSession.cpp
index 9c63a19..1501c09 100644
--- a/worker/src/RTC/SrtpSession.cpp
+++ b/worker/src/RTC/SrtpSession.cpp
@@ -273,13 +273,21 @@ namespace RTC
 	protect:
 #endif
 
-		const srtp_err_status_t err = srtp_protect(
-		  /*srtp_t ctx*/ this->session,
-		  /*const uint8_t* rtp*/ *data,
-		  /*size_t rtp_len*/ *len,
-		  /*uint8_t* srtp*/ encryptBuffer,
-		  /*size_t* srtp_len*/ std::addressof(encryptLen),
-		  /*size_t mki_index*/ 0);
+		// libsrtp2 API (Debian): protect in place, so copy into the output buffer first.
+		if (*len + SRTP_MAX_TRAILER_LEN > encryptLen)
+		{
+			MS_WARN_TAG(srtp, "cannot encrypt RTP packet, size too big (%zu bytes)", *len);
+
+			return false;
+		}
+
+		std::memmove(encryptBuffer, *data, *len);
+
+		int encryptLenInt = static_cast<int>(*len);
+
+		const srtp_err_status_t err = srtp_protect(this->session, encryptBuffer, &encryptLenInt);
+
+		encryptLen = static_cast<size_t>(encryptLenInt);
 
 		if (DepLibSRTP::IsError(err))
 		{
@@ -299,14 +307,11 @@ namespace RTC
 	{
 		MS_TRACE();
 
-		size_t decryptLen = *len;
+		int decryptLenInt = static_cast<int>(*len);
 
-		const srtp_err_status_t err = srtp_unprotect(
-		  /*srtp_t ctx*/ this->session,
-		  /*const uint8_t* srtp*/ data,
-		  /*size_t srtp_len*/ *len,
-		  /*uint8_t* rtp*/ data,
-		  /*size_t* rtp_len*/ std::addressof(decryptLen));
+		const srtp_err_status_t err = srtp_unprotect(this->session, data, &decryptLenInt);
+
+		const size_t decryptLen = static_cast<size_t>(decryptLenInt);
 
 		if (DepLibSRTP::IsError(err))
 		{
@@ -336,13 +341,13 @@ namespace RTC
 		uint8_t* encryptBuffer = EncryptBuffer;
 		size_t encryptLen      = EncryptBufferSize;
 
-		const srtp_err_status_t err = srtp_protect_rtcp(
-		  /*srtp_t ctx*/ this->session,
-		  /*const uint8_t* rtcp*/ *data,
-		  /*size_t rtcp_len*/ *len,
-		  /*uint8_t* srtcp*/ encryptBuffer,
-		  /*size_t* srtcp_len*/ std::addressof(encryptLen),
-		  /*size_t mki_index*/ 0);
+		std::memmove(encryptBuffer, *data, *len);
+
+		int encryptLenInt = static_cast<int>(*len);
+
+		const srtp_err_status_t err = srtp_protect_rtcp(this->session, encryptBuffer, &encryptLenInt);
+
+		encryptLen = static_cast<size_t>(encryptLenInt);
 
 		if (DepLibSRTP::IsError(err))
 		{
@@ -362,14 +367,11 @@ namespace RTC
 	{
 		MS_TRACE();
 
-		size_t decryptLen = *len;
+		int decryptLenInt = static_cast<int>(*len);
+
+		const srtp_err_status_t err = srtp_unprotect_rtcp(this->session, data, &decryptLenInt);
 
-		const srtp_err_status_t err = srtp_unprotect_rtcp(
-		  /*srtp_t ctx*/ this->session,
-		  /*const uint8_t* srtcp*/ data,
-		  /*size_t srtcp_len*/ *len,
-		  /*uint8_t* rtcp*/ data,
-		  /*size_t* rtcp_len*/ std::addressof(decryptLen));
+		const size_t decryptLen = static_cast<size_t>(decryptLenInt);
 
 		if (DepLibSRTP::IsError(err))
 		{
PATCH

# 4b. DTLS with a system OpenSSL built with kTLS (Debian's): mediasoup's BIO callback answered 1 to the
#     return phase of BIO_ctrl, so OpenSSL believed the BIO did kTLS, left its DTLS write buffer
#     unallocated and the worker crashed (SIGSEGV) on a browser's first ClientHello. Pass the real result.
patch -p1 <<'PATCH'
--- a/worker/src/RTC/DtlsTransport.cpp
+++ b/worker/src/RTC/DtlsTransport.cpp
@@ -65,7 +65,11 @@
   int ret,
   size_t* /*processed*/)
 {
-	long resultOfcallback = (operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1;
+	// Debian/system OpenSSL is built with kTLS: returning 1 for the return phase of
+	// BIO_ctrl() (e.g. BIO_get_ktls_send()) makes OpenSSL think the BIO does kTLS and
+	// leave its DTLS write buffer unallocated (NULL deref in do_dtls1_write()). Pass the
+	// real result through for every BIO_CB_RETURN phase.
+	long resultOfcallback = ((operationType & BIO_CB_RETURN) != 0) ? static_cast<long>(ret) : 1;
 
 	// This callback is called twice for write operations:
 	// - First one with operationType = BIO_CB_WRITE.
PATCH

# 4c. Parley's patches for SIP legs (see the top of this file).
patch -p1 <<'PATCH'
--- a/worker/include/RTC/PlainTransport.hpp
+++ b/worker/include/RTC/PlainTransport.hpp
@@ -34,6 +34,11 @@
 
 	private:
 		bool IsConnected() const override;
+		bool AcceptsUnsignalledSsrc() const override
+		{
+			return this->comedia;
+		}
+		bool MayLatch(const RTC::TransportTuple* current, bool confirmed, uint64_t lastRecvMs) const;
 		bool HasSrtp() const;
 		bool IsSrtpReady() const;
 		void SendRtpPacket(
@@ -89,6 +94,12 @@
 		size_t srtpMasterLength{ 0 };
 		std::string srtpKeyBase64;
 		bool connectCalled{ false }; // Whether connect() was succesfully called.
+		// Parley (comedia with a remote from connect()): whether a packet from the
+		// tuple's address confirmed it, and when the last one came.
+		bool tupleConfirmed{ false };
+		uint64_t tupleLastRecvMs{ 0u };
+		bool rtcpTupleConfirmed{ false };
+		uint64_t rtcpTupleLastRecvMs{ 0u };
 	};
 } // namespace RTC
 
--- a/worker/include/RTC/Transport.hpp
+++ b/worker/include/RTC/Transport.hpp
@@ -196,6 +196,12 @@
 
 	private:
 		virtual bool IsConnected() const = 0;
+		// Parley: whether RTP whose SSRC no Producer signalled may go to the only
+		// Producer of this transport (a SIP peer never signals its SSRC).
+		virtual bool AcceptsUnsignalledSsrc() const
+		{
+			return false;
+		}
 		virtual void SendRtpPacket(
 		  RTC::Consumer* consumer, RTC::RtpPacket* packet, onSendCallback* cb = nullptr) = 0;
 		void HandleRtcpPacket(RTC::RTCP::Packet* packet);
--- a/worker/src/RTC/Consumer.cpp
+++ b/worker/src/RTC/Consumer.cpp
@@ -120,9 +120,11 @@
 		this->paused = data->paused();
 
 		// Fill supported codec payload types.
+		// Parley: complementary codecs too, so that RFC 4733 telephone-events (and
+		// comfort noise) in the producer's stream reach the consumer's endpoint.
 		for (auto& codec : this->rtpParameters.codecs)
 		{
-			if (codec.mimeType.IsMediaCodec())
+			if (codec.mimeType.IsMediaCodec() || codec.mimeType.IsComplementaryCodec())
 			{
 				this->supportedCodecPayloadTypes[codec.payloadType] = true;
 			}
--- a/worker/src/RTC/PlainTransport.cpp
+++ b/worker/src/RTC/PlainTransport.cpp
@@ -2,6 +2,7 @@
 // #define MS_LOG_DEV_LEVEL 3
 
 #include "RTC/PlainTransport.hpp"
+#include "DepLibUV.hpp"
 #include "Logger.hpp"
 #include "MediaSoupErrors.hpp"
 #include "Settings.hpp"
@@ -451,7 +452,9 @@
 			case Channel::ChannelRequest::Method::PLAINTRANSPORT_CONNECT:
 			{
 				// Ensure this method is not called twice.
-				if (this->connectCalled)
+				// Parley: a comedia transport without SRTP may be given a new remote
+				// (a re-INVITE moved the peer's media, RFC 3264 §8.3.1).
+				if (this->connectCalled && (!this->comedia || HasSrtp()))
 				{
 					MS_THROW_ERROR("connect() already called");
 				}
@@ -575,7 +578,14 @@
 						delete[] srtpRemoteKey;
 					}
 
-					if (!this->comedia)
+					// Parley: with comedia, an ip is the remote the peer's SDP gave: media
+					// goes there until a packet from the peer latches the tuple to its
+					// real source (symmetric RTP, RFC 4961), as a SIP peer behind NAT or
+					// one that only echoes what it receives (and so never sends first)
+					// both need.
+					if (
+					  !this->comedia ||
+					  flatbuffers::IsFieldPresent(body, FBS::PlainTransport::ConnectRequest::VT_IP))
 					{
 						if (!flatbuffers::IsFieldPresent(body, FBS::PlainTransport::ConnectRequest::VT_IP))
 						{
@@ -605,7 +615,7 @@
 						}
 						else
 						{
-							if (!this->rtcpMux)
+							if (!this->rtcpMux && !this->comedia)
 							{
 								MS_THROW_TYPE_ERROR("missing rtcpPort (required with rtcpMux disabled)");
 							}
@@ -651,16 +661,20 @@
 							}
 						}
 
-						// Create the tuple.
+						// Create the tuple (Parley: replacing the previous one, with its own
+						// copy of the address).
+						delete this->tuple;
 						this->tuple = new RTC::TransportTuple(
 						  this->udpSocket, reinterpret_cast<struct sockaddr*>(&this->remoteAddrStorage));
+						this->tuple->StoreUdpRemoteAddress();
+						this->tupleConfirmed = false;
 
 						if (!this->listenInfo.announcedAddress.empty())
 						{
 							this->tuple->SetLocalAnnouncedAddress(this->listenInfo.announcedAddress);
 						}
 
-						if (!this->rtcpMux)
+						if (!this->rtcpMux && rtcpPort != 0u)
 						{
 							switch (Utils::IP::GetFamily(ip))
 							{
@@ -700,10 +714,13 @@
 								}
 							}
 
-							// Create the tuple.
+							// Create the tuple (Parley: replacing the previous one).
+							delete this->rtcpTuple;
 							this->rtcpTuple = new RTC::TransportTuple(
 							  this->rtcpUdpSocket,
 							  reinterpret_cast<struct sockaddr*>(&this->rtcpRemoteAddrStorage));
+							this->rtcpTuple->StoreUdpRemoteAddress();
+							this->rtcpTupleConfirmed = false;
 
 							if (!this->rtcpListenInfo.announcedAddress.empty())
 							{
@@ -729,6 +746,8 @@
 					throw;
 				}
 
+				auto wasConnectCalled = this->connectCalled;
+
 				this->connectCalled = true;
 
 				// Tell the caller about the selected local DTLS role.
@@ -760,8 +779,11 @@
 				request->Accept(FBS::Response::Body::PlainTransport_ConnectResponse, responseOffset);
 
 				// Assume we are connected (there is no much more we can do to know it)
-				// and tell the parent class.
-				RTC::Transport::Connected();
+				// and tell the parent class (Parley: once, connect() may come again).
+				if (!wasConnectCalled)
+				{
+					RTC::Transport::Connected();
+				}
 
 				break;
 			}
@@ -938,6 +960,22 @@
 		}
 	}
 
+	/**
+	 * Parley: whether a packet from another source than the tuple's may move the
+	 * tuple there (comedia mode). It may while the tuple is only what connect()
+	 * was given (the peer's SDP; its NAT or its real source may differ), or once
+	 * the confirmed source has been silent for a second (the NAT rebound, the
+	 * peer moved). Never while it is live: a stranger spraying packets at the
+	 * port cannot take a stream over.
+	 */
+	bool PlainTransport::MayLatch(
+	  const RTC::TransportTuple* current, bool confirmed, uint64_t lastRecvMs) const
+	{
+		static constexpr uint64_t LatchGuardMs{ 1000u };
+
+		return current == nullptr || !confirmed || DepLibUV::GetTimeMs() - lastRecvMs >= LatchGuardMs;
+	}
+
 	inline void PlainTransport::OnPacketReceived(RTC::TransportTuple* tuple, const uint8_t* data, size_t len)
 	{
 		MS_TRACE();
@@ -1048,16 +1086,37 @@
 		// of the packet.
 		else if (!this->tuple->Compare(tuple))
 		{
-			MS_DEBUG_TAG(rtp, "ignoring RTP packet from unknown IP:port");
+			// Parley: latch to the peer's real source (see MayLatch()).
+			if (this->comedia && MayLatch(this->tuple, this->tupleConfirmed, this->tupleLastRecvMs))
+			{
+				MS_DEBUG_TAG(rtp, "moving RTP tuple to the packet's source (comedia mode enabled)");
 
-			// Remove this SSRC.
-			RecvStreamClosed(packet->GetSsrc());
+				delete this->tuple;
+				this->tuple = new RTC::TransportTuple(tuple);
 
-			delete packet;
+				if (!this->listenInfo.announcedAddress.empty())
+				{
+					this->tuple->SetLocalAnnouncedAddress(this->listenInfo.announcedAddress);
+				}
 
-			return;
+				EmitTuple();
+			}
+			else
+			{
+				MS_DEBUG_TAG(rtp, "ignoring RTP packet from unknown IP:port");
+
+				// Remove this SSRC.
+				RecvStreamClosed(packet->GetSsrc());
+
+				delete packet;
+
+				return;
+			}
 		}
 
+		this->tupleConfirmed  = true;
+		this->tupleLastRecvMs = DepLibUV::GetTimeMs();
+
 		// Pass the packet to the parent transport.
 		RTC::Transport::ReceiveRtpPacket(packet);
 	}
@@ -1142,9 +1201,35 @@
 		// If no RTCP-mux verify that the packet's tuple matches our RTCP tuple.
 		else if (!this->rtcpMux && !this->rtcpTuple->Compare(tuple))
 		{
-			MS_DEBUG_TAG(rtcp, "ignoring RTCP packet from unknown IP:port");
+			// Parley: latch to the peer's real RTCP source (see MayLatch()).
+			if (
+			  this->comedia &&
+			  MayLatch(this->rtcpTuple, this->rtcpTupleConfirmed, this->rtcpTupleLastRecvMs))
+			{
+				MS_DEBUG_TAG(rtcp, "moving RTCP tuple to the packet's source (comedia mode enabled)");
 
-			return;
+				delete this->rtcpTuple;
+				this->rtcpTuple = new RTC::TransportTuple(tuple);
+
+				if (!this->rtcpListenInfo.announcedAddress.empty())
+				{
+					this->rtcpTuple->SetLocalAnnouncedAddress(this->rtcpListenInfo.announcedAddress);
+				}
+
+				EmitRtcpTuple();
+			}
+			else
+			{
+				MS_DEBUG_TAG(rtcp, "ignoring RTCP packet from unknown IP:port");
+
+				return;
+			}
+		}
+
+		if (!this->rtcpMux)
+		{
+			this->rtcpTupleConfirmed  = true;
+			this->rtcpTupleLastRecvMs = DepLibUV::GetTimeMs();
 		}
 
 		RTC::RTCP::Packet* packet = RTC::RTCP::Packet::Parse(data, len);
--- a/worker/src/RTC/Transport.cpp
+++ b/worker/src/RTC/Transport.cpp
@@ -1574,6 +1574,25 @@
 		// Get the associated Producer.
 		RTC::Producer* producer = this->rtpListener.GetProducer(packet);
 
+		// Parley: a SIP phone or trunk never signals its SSRC and may change it
+		// (RFC 3550 §8.2). With a single Producer of a single SSRC on a transport
+		// that allows it, its stream takes the packet under the Producer's SSRC.
+		// clang-format off
+		if (
+			!producer &&
+			AcceptsUnsignalledSsrc() &&
+			this->rtpListener.ssrcTable.size() == 1 &&
+			this->rtpListener.midTable.empty() &&
+			this->rtpListener.ridTable.empty()
+		)
+		// clang-format on
+		{
+			auto it = this->rtpListener.ssrcTable.begin();
+
+			packet->SetSsrc(it->first);
+			producer = it->second;
+		}
+
 		if (!producer)
 		{
 #ifdef MS_RTC_LOGGER_RTP
PATCH

# 5. Replace the downloading subprojects with stubs that use the system libraries.
W=worker; S=$W/subprojects
rm -f "$S"/*.wrap
mk() { # name, meson body
  mkdir -p "$S/$1"; echo "int ms_sysdep_stub_${1//-/_}(void) { return 0; }" > "$S/$1/stub.c"
  { echo "project('$1', 'c')"; echo "_stub = static_library('${1}_stub', 'stub.c')"; echo "$2"; } > "$S/$1/meson.build"
}
mk openssl "openssl_dep = dependency('openssl')
libcrypto_dep = dependency('libcrypto')
libssl_dep = dependency('libssl')
libcrypto_lib = _stub
libssl_lib = _stub"
mk libuv "libuv_dep = dependency('libuv')
libuv = _stub"
mk libsrtp3 "_srtp2 = dependency('libsrtp2')
# Debian installs srtp.h under <includedir>/srtp2 and pkg-config does not add that dir.
libsrtp3_dep = declare_dependency(dependencies: _srtp2, compile_args: '-I' + (_srtp2.get_variable(pkgconfig: 'includedir') / 'srtp2'))
libsrtp3 = _stub"
mk usrsctp "usrsctp_dep = dependency('usrsctp')
usrsctp = _stub"
mk abseil-cpp "absl_container_dep = declare_dependency(dependencies: [dependency('absl_flat_hash_map'), dependency('absl_flat_hash_set'), dependency('absl_btree'), dependency('absl_optional'), dependency('absl_memory')])
absl_strings_dep = dependency('absl_strings')
absl_types_dep = dependency('absl_optional')
absl_container_lib = _stub"
mk catch2 "catch2_dep = dependency('', required: false)
catch2_with_main_dep = catch2_dep"
mk flatbuffers "flatbuffers_dep = dependency('flatbuffers')
flatbuffers_lib = _stub
flatc = find_program('flatc')"
# Options the main meson.build passes to these subprojects (ignored by the stubs).
printf "%s\n" "option('build_tests', type: 'boolean', value: false)" "option('build_benchmarks', type: 'boolean', value: false)" > "$S/libuv/meson_options.txt"
printf "%s\n" "option('crypto-library', type: 'string', value: 'openssl')" "option('crypto-library-kdf', type: 'string', value: 'disabled')" "option('tests', type: 'string', value: 'disabled')" > "$S/libsrtp3/meson_options.txt"
printf "%s\n" "option('sctp_build_programs', type: 'boolean', value: false)" > "$S/usrsctp/meson_options.txt"
# liburing: Debian 12 has 2.3, mediasoup needs >= 2.5 -> configure with -Dms_disable_liburing=true

# 6. Configure and build (the flatc generator target has to run first, as mediasoup's tasks.py does).
BUILD="$WORK/build-$MS_VER"; rm -rf "$BUILD"
"$MESON" setup --buildtype release -Db_ndebug=true -Dms_disable_liburing=true --wrap-mode=nodownload "$BUILD" worker
ninja -C "$BUILD" fbs/FBS
time nice -n 19 ninja -C "$BUILD" -j"$JOBS" mediasoup-worker
install -m 0755 "$BUILD/mediasoup-worker" "$PREFIX/mediasoup-worker"
ls -l "$PREFIX/mediasoup-worker"
echo "Built $PREFIX/mediasoup-worker"
