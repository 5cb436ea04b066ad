//! TLS: a certificate authority generated per server, the server certificate it signs
//! (for [`Config::serving_cert_names`](crate::Config::serving_cert_names), by default
//! `localhost`, `127.0.0.1` and `::1`), client certificates for tests, and the rustls
//! server configuration (ring provider; HTTP/2 and HTTP/1.1 via ALPN).
//!
//! With client-certificate authentication on, certificates are requested but optional at the
//! TLS layer, as on the API server: a connection without one can still authenticate with the
//! bearer token, and otherwise gets a 401 `Status` rather than a handshake failure.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ServerConfig, WebPkiClientVerifier};

use crate::Error;

/// The CA that signs the server's and clients' certificates.
pub(crate) struct CertificateAuthority {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// A fresh self-signed CA.
    pub fn generate() -> Result<Self, Error> {
        let mut params =
            CertificateParams::new(Vec::<String>::new()).map_err(Error::Certificate)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "testserver-ca");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().map_err(Error::Certificate)?;
        let cert = params.self_signed(&key).map_err(Error::Certificate)?;
        Ok(CertificateAuthority { cert, key })
    }

    /// The CA certificate in PEM.
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    fn issue(
        &self,
        sans: Vec<String>,
        common_name: &str,
        usage: ExtendedKeyUsagePurpose,
    ) -> Result<(rcgen::Certificate, KeyPair), Error> {
        let mut params = CertificateParams::new(sans).map_err(Error::Certificate)?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![usage];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let key = KeyPair::generate().map_err(Error::Certificate)?;
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .map_err(Error::Certificate)?;
        Ok((cert, key))
    }

    /// A client certificate for `user` (its CN), as `(cert_pem, key_pem)`.
    pub fn issue_client(&self, user: &str) -> Result<(String, String), Error> {
        let (cert, key) = self.issue(Vec::new(), user, ExtendedKeyUsagePurpose::ClientAuth)?;
        Ok((cert.pem(), key.serialize_pem()))
    }

    /// The rustls configuration for the server; its certificate names `names`.
    pub fn server_config(
        &self,
        names: &[String],
        client_auth: bool,
    ) -> Result<Arc<ServerConfig>, Error> {
        let (cert, key) = self.issue(
            names.to_vec(),
            "testserver",
            ExtendedKeyUsagePurpose::ServerAuth,
        )?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(Error::Tls)?;
        let builder = if client_auth {
            let mut roots = RootCertStore::empty();
            roots.add(self.cert.der().clone()).map_err(Error::Tls)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|e| Error::Tls(rustls::Error::General(e.to_string())))?;
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut config = builder.with_single_cert(chain, key).map_err(Error::Tls)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}
