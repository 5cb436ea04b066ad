//! Port of client-go `transport/transport.go` (TLSConfigFor, loadTLSFiles) and the dynamic
//! client-certificate callback of `transport/cert_rotation.go`: a [`TlsConfig`] → a rustls
//! client configuration on the `ring` provider.
//!
//! Data flow: CA data or file → a root store used alone (as Go does when a CA is given); no
//! CA → the platform's roots; `insecure` → no chain or name check (handshake signatures are
//! still verified); `server_name` → certificates are checked against that name instead of the
//! URL's host (port of `tls.Config.ServerName`; the SNI half is in `rest/server_name.rs`), and
//! an IP address there turns SNI off, as Go sends no SNI for one. The client certificate goes
//! through [`ClientCertSlot`], which an exec plugin can refill later, so new connections
//! present the newest certificate.

use std::sync::{Arc, RwLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::TlsConfig;
use crate::error::{BoxError, Error, Result};

fn tls_err(context: impl Into<String>, e: impl Into<BoxError>) -> Error {
    Error::Tls {
        context: context.into(),
        source: e.into(),
    }
}

/// The client certificate presented on new connections; replaceable at run time.
#[derive(Default)]
pub struct ClientCertSlot {
    current: RwLock<Option<Arc<CertifiedKey>>>,
}

impl std::fmt::Debug for ClientCertSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientCertSlot(<redacted>)")
    }
}

impl ClientCertSlot {
    /// Replaces the certificate with one parsed from PEM.
    pub fn set_pem(&self, cert_pem: &[u8], key_pem: &[u8]) -> Result<()> {
        let key = certified_key(cert_pem, key_pem)?;
        if let Ok(mut cur) = self.current.write() {
            *cur = Some(Arc::new(key));
        }
        Ok(())
    }
}

impl ResolvesClientCert for ClientCertSlot {
    fn resolve(&self, _: &[&[u8]], _: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().and_then(|c| c.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

fn certified_key(cert_pem: &[u8], key_pem: &[u8]) -> Result<CertifiedKey> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| tls_err("client certificate", e))?;
    if chain.is_empty() {
        return Err(tls_err("client certificate", "no PEM certificate found"));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| tls_err("client key", e))?;
    let signer = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| tls_err("client key", e))?;
    let certified = CertifiedKey::new(chain, signer);
    // Go's tls.X509KeyPair refuses a pair that does not belong together when the config is
    // loaded; without this check the mismatch shows up later as an opaque handshake error.
    if let Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) =
        certified.keys_match()
    {
        return Err(tls_err(
            "client certificate",
            "tls: private key does not match public key",
        ));
    }
    Ok(certified)
}

/// Reads `data`, else `file`; names the file in errors. Port of transport.go: dataFromSliceOrFile.
fn data_or_file(
    what: &str,
    data: &Option<Vec<u8>>,
    file: &Option<std::path::PathBuf>,
) -> Result<Option<Vec<u8>>> {
    if let Some(d) = data {
        return Ok(Some(d.clone()));
    }
    match file {
        Some(p) => std::fs::read(p)
            .map(Some)
            .map_err(|e| tls_err(format!("{what} file {}", p.display()), e)),
        None => Ok(None),
    }
}

/// Builds the rustls configuration and the slot holding the client certificate.
pub fn client_config(tls: &TlsConfig) -> Result<(ClientConfig, Arc<ClientCertSlot>)> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let has_ca = tls.ca_data.as_ref().is_some_and(|d| !d.is_empty())
        || tls
            .ca_file
            .as_ref()
            .is_some_and(|f| !f.as_os_str().is_empty());
    if tls.insecure && has_ca {
        // Port of transport.go: TLSConfigFor.
        return Err(tls_err(
            "CA certificate",
            "specifying a root certificates file with the insecure flag is not allowed",
        ));
    }
    let verifier: Arc<dyn ServerCertVerifier> = if tls.insecure {
        tracing::warn!(
            "TLS verification is off (insecure-skip-tls-verify): the server's certificate is not checked"
        );
        Arc::new(InsecureVerifier(provider.clone()))
    } else if let Some(ca) = data_or_file("CA", &tls.ca_data, &tls.ca_file)? {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&ca) {
            let cert = cert.map_err(|e| tls_err("CA certificate", e))?;
            roots.add(cert).map_err(|e| tls_err("CA certificate", e))?;
        }
        if roots.is_empty() {
            return Err(tls_err("CA certificate", "no PEM certificate found"));
        }
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| tls_err("CA certificate", e))?;
        wrap_name(inner, tls.server_name.as_deref())?
    } else {
        let inner = Arc::new(
            rustls_platform_verifier::Verifier::new(provider.clone())
                .map_err(|e| tls_err("platform roots", e))?,
        );
        wrap_name(inner, tls.server_name.as_deref())?
    };
    let slot = Arc::new(ClientCertSlot::default());
    let cert = data_or_file("client certificate", &tls.cert_data, &tls.cert_file)?;
    let key = data_or_file("client key", &tls.key_data, &tls.key_file)?;
    match (cert, key) {
        (Some(c), Some(k)) => slot.set_pem(&c, &k)?,
        (None, None) => {}
        _ => {
            return Err(tls_err(
                "client certificate",
                "certificate and key must be given together",
            ));
        }
    }
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err("protocol versions", e))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_cert_resolver(slot.clone());
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // Go's crypto/tls sends no SNI when ServerName is an IP address (hostnameInSNI); rustls
    // would otherwise send the URL's host.
    if tls
        .server_name
        .as_deref()
        .is_some_and(|n| n.parse::<std::net::IpAddr>().is_ok())
    {
        config.enable_sni = false;
    }
    Ok((config, slot))
}

fn wrap_name(
    inner: Arc<dyn ServerCertVerifier>,
    name: Option<&str>,
) -> Result<Arc<dyn ServerCertVerifier>> {
    match name {
        None => Ok(inner),
        Some(n) => {
            let name = ServerName::try_from(n.to_owned()).map_err(|e| tls_err("server name", e))?;
            Ok(Arc::new(NameOverride { inner, name }))
        }
    }
}

/// Verifies against a configured name instead of the URL's host. Port of tls.Config.ServerName.
#[derive(Debug)]
struct NameOverride {
    inner: Arc<dyn ServerCertVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for NameOverride {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp, now)
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Accepts any certificate chain and name. Port of tls.Config.InsecureSkipVerify.
#[derive(Debug)]
struct InsecureVerifier(Arc<CryptoProvider>);

impl ServerCertVerifier for InsecureVerifier {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
