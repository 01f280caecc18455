//! Result and diagnostic enumerations of the DLMS/COSEM application layer
//! (IEC 62056-5-3 / Green Book 9.5 ASN.1). Every enum keeps unknown values as `Unknown(raw)`.

/// Define a `u8` code enum with an `Unknown(u8)` catch-all and lossless `u8` conversions.
macro_rules! enum_with_unknown {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal,)* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this table does not name.
            Unknown(u8),
        }

        impl $name {
            /// Every named value, sorted by code.
            pub const NAMED: &'static [$name] = &[$($name::$variant,)*];
        }

        impl From<u8> for $name {
            fn from(v: u8) -> Self {
                match v {
                    $($value => $name::$variant,)*
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for u8 {
            fn from(v: $name) -> u8 {
                match v {
                    $($name::$variant => $value,)*
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}
pub(crate) use enum_with_unknown;

enum_with_unknown! {
    /// Data-Access-Result (Green Book 9.5): why a GET/SET on an attribute failed.
    pub enum DataAccessResult {
        Success = 0,
        HardwareFault = 1,
        TemporaryFailure = 2,
        ReadWriteDenied = 3,
        ObjectUndefined = 4,
        ObjectClassInconsistent = 9,
        ObjectUnavailable = 11,
        TypeUnmatched = 12,
        ScopeOfAccessViolated = 13,
        DataBlockUnavailable = 14,
        LongGetAborted = 15,
        NoLongGetInProgress = 16,
        LongSetAborted = 17,
        NoLongSetInProgress = 18,
        DataBlockNumberInvalid = 19,
        OtherReason = 250,
    }
}

enum_with_unknown! {
    /// Action-Result (Green Book 9.5): outcome of an ACTION on a method.
    pub enum ActionResult {
        Success = 0,
        HardwareFault = 1,
        TemporaryFailure = 2,
        ReadWriteDenied = 3,
        ObjectUndefined = 4,
        ObjectClassInconsistent = 9,
        ObjectUnavailable = 11,
        TypeUnmatched = 12,
        ScopeOfAccessViolated = 13,
        DataBlockUnavailable = 14,
        LongActionAborted = 15,
        NoLongActionInProgress = 16,
        OtherReason = 250,
    }
}

enum_with_unknown! {
    /// Association-result of an AARE (ISO 8650 / Green Book 9.5).
    pub enum AssociationResult {
        Accepted = 0,
        RejectedPermanent = 1,
        RejectedTransient = 2,
    }
}

enum_with_unknown! {
    /// acse-service-user diagnostic of an AARE.
    pub enum AcseServiceUserDiagnostic {
        Null = 0,
        NoReasonGiven = 1,
        ApplicationContextNameNotSupported = 2,
        CallingApTitleNotRecognized = 3,
        CallingApInvocationIdentifierNotRecognized = 4,
        CallingAeQualifierNotRecognized = 5,
        CallingAeInvocationIdentifierNotRecognized = 6,
        CalledApTitleNotRecognized = 7,
        CalledApInvocationIdentifierNotRecognized = 8,
        CalledAeQualifierNotRecognized = 9,
        CalledAeInvocationIdentifierNotRecognized = 10,
        AuthenticationMechanismNameNotRecognised = 11,
        AuthenticationMechanismNameRequired = 12,
        AuthenticationFailure = 13,
        AuthenticationRequired = 14,
    }
}

enum_with_unknown! {
    /// acse-service-provider diagnostic of an AARE.
    pub enum AcseServiceProviderDiagnostic {
        Null = 0,
        NoReasonGiven = 1,
        NoCommonAcseVersion = 2,
    }
}

enum_with_unknown! {
    /// Release-request-reason of an RLRQ.
    pub enum ReleaseRequestReason {
        Normal = 0,
        Urgent = 1,
        UserDefined = 30,
    }
}

enum_with_unknown! {
    /// Release-response-reason of an RLRE.
    pub enum ReleaseResponseReason {
        Normal = 0,
        NotFinished = 1,
        UserDefined = 30,
    }
}

enum_with_unknown! {
    /// state-error of an exception-response (Green Book 9.5).
    pub enum StateError {
        ServiceNotAllowed = 1,
        ServiceUnknown = 2,
    }
}

enum_with_unknown! {
    /// ServiceError `initiate` values: why an xDLMS InitiateRequest was refused.
    pub enum InitiateError {
        Other = 0,
        DlmsVersionTooLow = 1,
        IncompatibleConformance = 2,
        PduSizeTooShort = 3,
        RefusedByTheVdeHandler = 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T: Copy + Eq + core::fmt::Debug + From<u8>>(named: &[T])
    where
        u8: From<T>,
    {
        for w in named.windows(2) {
            assert!(
                u8::from(w[0]) < u8::from(w[1]),
                "{:?} before {:?}",
                w[0],
                w[1]
            );
        }
        for v in 0..=255u8 {
            assert_eq!(u8::from(T::from(v)), v);
        }
    }

    #[test]
    fn tables_are_sorted_and_lossless() {
        check(DataAccessResult::NAMED);
        check(ActionResult::NAMED);
        check(AssociationResult::NAMED);
        check(AcseServiceUserDiagnostic::NAMED);
        check(AcseServiceProviderDiagnostic::NAMED);
        check(ReleaseRequestReason::NAMED);
        check(ReleaseResponseReason::NAMED);
        check(StateError::NAMED);
        check(InitiateError::NAMED);
    }

    #[test]
    fn spot_values() {
        assert_eq!(DataAccessResult::from(4), DataAccessResult::ObjectUndefined);
        assert_eq!(DataAccessResult::from(250), DataAccessResult::OtherReason);
        assert_eq!(DataAccessResult::from(5), DataAccessResult::Unknown(5));
        assert_eq!(
            AcseServiceUserDiagnostic::from(13),
            AcseServiceUserDiagnostic::AuthenticationFailure
        );
    }
}
