#pragma once
// Test PKI made at test time with OpenSSL: a CA and leaf certificates it signs (P-256 keys,
// given SANs), written as PEM files to a temporary directory removed afterwards.

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

namespace sluice::tls::testing {

struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Free {
    void operator()(X509* cert) const { X509_free(cert); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

inline bool startsWith(const std::string& text, const std::string& prefix) {
    return text.compare(0, prefix.size(), prefix) == 0;
}
inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

struct CertFiles {
    std::string cert;
    std::string key;
};

class TestPki {
  public:
    // `name` becomes the CA's CN (and tells two PKIs apart).
    explicit TestPki(const std::string& name = "Sluice Test CA") {
        std::string pattern = (std::filesystem::temp_directory_path() / "sluice-tls-XXXXXX");
        if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = pattern;
        ca_key_ = newKey();
        ca_ = makeCert(ca_key_.get(), name, "", nullptr, nullptr, true);
        ca_file_ = path("ca.pem");
        writeCert(ca_.get(), ca_file_);
    }
    ~TestPki() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    TestPki(const TestPki&) = delete;
    TestPki& operator=(const TestPki&) = delete;

    const std::string& dir() const { return dir_; }
    const std::string& caFile() const { return ca_file_; }
    std::string path(const std::string& file) const { return dir_ + "/" + file; }

    // A leaf signed by the CA, subject CN `cn`, SANs like "DNS:a.example.com,IP:127.0.0.1"
    // ("" = no SAN extension). Files: NAME.pem, NAME.key.
    CertFiles leaf(const std::string& name, const std::string& cn, const std::string& san) {
        Pkey key = newKey();
        Cert cert = makeCert(key.get(), cn, san, ca_.get(), ca_key_.get(), false);
        CertFiles files{path(name + ".pem"), path(name + ".key")};
        writeCert(cert.get(), files.cert);
        writeKey(key.get(), files.key);
        return files;
    }
    // A fresh key matching nothing.
    std::string strayKey(const std::string& name) {
        Pkey key = newKey();
        const std::string file = path(name + ".key");
        writeKey(key.get(), file);
        return file;
    }
    // A key encrypted with a passphrase.
    std::string encryptedKey(const std::string& name) {
        Pkey key = newKey();
        const std::string file = path(name + ".key");
        BIO* out = BIO_new_file(file.c_str(), "w");
        char pass[] = "secret";
        if (out == nullptr || PEM_write_bio_PrivateKey(out, key.get(), EVP_aes_128_cbc(), nullptr,
                                                       0, nullptr, pass) != 1) {
            BIO_free(out);
            throw std::runtime_error("cannot write " + file);
        }
        BIO_free(out);
        return file;
    }
    std::string writeFile(const std::string& name, const std::string& content) {
        const std::string file = path(name);
        std::ofstream(file) << content;
        return file;
    }

  private:
    static Pkey newKey() {
        Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
        if (!key) throw std::runtime_error("EC key generation failed");
        return key;
    }

    static void addExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
        if (ext == nullptr) throw std::runtime_error("bad extension " + value);
        X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
    }

    Cert makeCert(EVP_PKEY* key, const std::string& cn, const std::string& san, X509* issuer,
                  EVP_PKEY* issuer_key, bool ca) {
        Cert cert(X509_new());
        X509* x = cert.get();
        X509_set_version(x, X509_VERSION_3);
        ASN1_INTEGER_set(X509_get_serialNumber(x), serial_++);
        X509_gmtime_adj(X509_getm_notBefore(x), -3600);
        X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
        X509_set_pubkey(x, key);
        X509_NAME* subject = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
        X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer) : subject);
        X509V3_CTX ctx;
        X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : x, x, nullptr, nullptr, 0);
        addExtension(x, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
        addExtension(x, &ctx, NID_subject_key_identifier, "hash");
        if (ca) {
            addExtension(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
        } else {
            addExtension(x, &ctx, NID_authority_key_identifier, "keyid:always");
            addExtension(x, &ctx, NID_key_usage, "critical,digitalSignature");
            addExtension(x, &ctx, NID_ext_key_usage, "serverAuth");
        }
        if (!san.empty()) addExtension(x, &ctx, NID_subject_alt_name, san);
        if (X509_sign(x, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
            throw std::runtime_error("X509_sign failed");
        }
        return cert;
    }

    static void writeCert(X509* cert, const std::string& file) {
        BIO* out = BIO_new_file(file.c_str(), "w");
        if (out == nullptr || PEM_write_bio_X509(out, cert) != 1) {
            BIO_free(out);
            throw std::runtime_error("cannot write " + file);
        }
        BIO_free(out);
    }
    static void writeKey(EVP_PKEY* key, const std::string& file) {
        BIO* out = BIO_new_file(file.c_str(), "w");
        if (out == nullptr ||
            PEM_write_bio_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
            BIO_free(out);
            throw std::runtime_error("cannot write " + file);
        }
        BIO_free(out);
    }

    std::string dir_;
    std::string ca_file_;
    Pkey ca_key_;
    Cert ca_;
    long serial_ = 1;
};

}  // namespace sluice::tls::testing
